"""The workspace's state as dataclasses: users, groups, channels, messages, views, and what was recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None = None
    is_bot: bool = False
    display_name: str = ""
    tz: str = "Etc/UTC"
    deleted: bool = False
    bot_id: str | None = None
    is_admin: bool = False


@dataclass
class UserGroup:
    id: str
    handle: str
    name: str
    users: list[str]
    description: str = ""
    created_by: str = ""
    date_create: int = 0
    disabled: bool = False


@dataclass
class TopicValue:
    value: str = ""
    creator: str = ""
    last_set: int = 0


@dataclass
class Bookmark:
    id: str
    channel_id: str
    title: str
    type: str
    link: str | None
    emoji: str | None
    date_created: int
    created_by: str


@dataclass
class Channel:
    id: str
    name: str
    creator: str
    created: int
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None
    is_general: bool = False
    is_archived: bool = False
    topic: TopicValue = field(default_factory=TopicValue)
    purpose: TopicValue = field(default_factory=TopicValue)
    bookmarks: list[Bookmark] = field(default_factory=list)
    previous_names: list[str] = field(default_factory=list)


@dataclass
class Reaction:
    name: str
    users: list[str]


@dataclass
class Message:
    """A message in a channel. ``source`` says how it got there: api, response_url, ack, person, system."""

    ts: str
    channel: str
    user: str
    text: str
    blocks: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    subtype: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    reactions: list[Reaction] = field(default_factory=list)
    pinned: bool = False
    edited: JSON | None = None
    files: list[JSON] = field(default_factory=list)
    metadata: JSON | None = None
    reply_broadcast: bool = False
    source: str = "api"
    deleted: bool = False

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class Ephemeral:
    """A message only ``user`` sees; gone on reload in Slack, kept here so tests can look."""

    ts: str
    channel: str
    user: str
    text: str
    blocks: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    source: str = "api"
    deleted: bool = False


@dataclass
class View:
    """A modal in a user's stack, or a user's App Home. ``definition`` is what the app sent."""

    id: str
    user: str
    type: str
    definition: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    state: dict[str, dict[str, JSON]] = field(default_factory=dict)
    is_open: bool = True

    @property
    def title(self) -> str:
        title = self.definition.get("title") or {}
        return str(title.get("text", "")) if isinstance(title, dict) else ""

    @property
    def callback_id(self) -> str:
        return str(self.definition.get("callback_id") or "")

    @property
    def external_id(self) -> str:
        return str(self.definition.get("external_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.definition.get("private_metadata") or "")

    @property
    def blocks(self) -> list[JSON]:
        blocks = self.definition.get("blocks") or []
        return list(blocks) if isinstance(blocks, list) else []


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    user: str
    created: int
    title: str | None = None
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)


@dataclass
class Trigger:
    """A trigger_id: valid for a few seconds and for one views.open/push. ``view_id``: issued inside it."""

    id: str
    user: str
    issued_at: float
    view_id: str | None = None
    used: bool = False


@dataclass
class ResponseUrl:
    """A response_url handed to the app with a command or an action; a few uses within 30 minutes."""

    id: str
    url: str
    user: str
    channel: str | None
    issued_at: float
    kind: str
    source_ts: str | None = None
    source_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


@dataclass
class TokenInfo:
    token: str
    scopes: frozenset[str]
    user_id: str
    bot_id: str
    revoked: bool = False
    kind: str = "bot"  # "bot" (xoxb-) or "app" (an app-level xapp- token, e.g. for apps.connections.open)


@dataclass
class ApiCall:
    """One Web API call the app made, with what the stand-in answered."""

    seq: int
    method: str
    http_verb: str
    args: JSON
    token: str | None
    status: int
    ok: bool
    error: str | None
    response: JSON
    at: float
    fault: str | None = None


@dataclass
class Violation:
    """Something the app did that Slack would refuse, ignore, or penalise (unknown arg, late ack...)."""

    kind: str
    detail: str
    method: str | None = None
    at: float = 0.0
