"""The stateful workspace: ids, timestamps, users, channels, messages, views, tokens, and recordings."""

from __future__ import annotations

import secrets
import threading
from collections import defaultdict
from collections.abc import Iterable

from slack_sandbox.clock import SandboxClock
from slack_sandbox.errors import NotFoundError
from slack_sandbox.models import (
    ApiCall,
    Channel,
    Ephemeral,
    Message,
    ResponseUrl,
    TokenInfo,
    Trigger,
    UploadedFile,
    User,
    UserGroup,
    View,
    Violation,
)

# What an incident bot's manifest grants; tests narrow it to provoke missing_scope.
DEFAULT_BOT_SCOPES: frozenset[str] = frozenset(
    {
        "app_mentions:read",
        "bookmarks:write",
        "channels:history",
        "channels:join",
        "channels:manage",
        "channels:read",
        "channels:write.invites",
        "channels:write.topic",
        "chat:write",
        "commands",
        "files:write",
        "groups:history",
        "groups:read",
        "groups:write",
        "groups:write.invites",
        "groups:write.topic",
        "im:history",
        "im:read",
        "im:write",
        "mpim:history",
        "mpim:read",
        "pins:write",
        "reactions:write",
        "usergroups:read",
        "users:read",
        "users:read.email",
    }
)

_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out or "0"


class Workspace:
    """Everything Slack knows. Mutate only while holding ``lock`` (the server thread and tests share it)."""

    def __init__(
        self,
        clock: SandboxClock,
        *,
        team_name: str = "Handoff Sandbox",
        team_domain: str = "handoff-sandbox",
        bot_name: str = "handoff",
        bot_scopes: Iterable[str] | None = None,
        bot_token: str | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._counters: dict[str, int] = defaultdict(int)
        self._last_ts_micro = 0
        self.team_id = self.new_id("T")
        self.team_name = team_name
        self.team_domain = team_domain
        self.app_id = self.new_id("A")
        self.enterprise_id: str | None = None
        bot_id = self.new_id("B")
        self.bot_user = User(
            id=self.new_id("U"), name=bot_name, real_name=bot_name, is_bot=True, bot_id=bot_id
        )
        self.users: dict[str, User] = {self.bot_user.id: self.bot_user}
        self.usergroups: dict[str, UserGroup] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = defaultdict(list)
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.modal_stacks: dict[str, list[str]] = defaultdict(list)
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.files: dict[str, UploadedFile] = {}
        self.tokens: dict[str, TokenInfo] = {}
        # Socket Mode: the one-use tickets of the URLs apps.connections.open gave out (ticket -> issued at).
        self.socket_tickets: dict[str, float] = {}
        self.calls: list[ApiCall] = []
        self.violations: list[Violation] = []
        self.bot_token = self.issue_token(
            bot_scopes if bot_scopes is not None else DEFAULT_BOT_SCOPES, bot_token
        )
        # The verification token Slack still sends in payloads (deprecated; apps should verify signatures).
        self.verification_token = secrets.token_hex(12)

    # ---- ids and time -------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        """Deterministic Slack-looking ids (``C1000…``): the same test gets the same ids each run."""
        with self.lock:
            self._counters[prefix] += 1
            return prefix + _base36(36**9 + self._counters[prefix] * 104729)

    def next_ts(self) -> str:
        """A message ts from the clock, strictly increasing across the workspace (so per channel too)."""
        with self.lock:
            micro = int(self.clock.now() * 1_000_000)
            micro = max(micro, self._last_ts_micro + 1)
            self._last_ts_micro = micro
            return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"

    def now_int(self) -> int:
        return int(self.clock.now())

    def issue_token(self, scopes: Iterable[str], token: str | None = None) -> str:
        team_num = str(int(self.team_id[1:], 36))[:12]
        token = token or f"xoxb-{team_num}-{secrets.randbelow(10**12):012d}-{secrets.token_urlsafe(18)}"
        with self.lock:
            self.tokens[token] = TokenInfo(
                token=token,
                scopes=frozenset(scopes),
                user_id=self.bot_user.id,
                bot_id=self.bot_user.bot_id or "",
            )
        return token

    def issue_app_token(self, scopes: Iterable[str], token: str | None = None) -> str:
        """An app-level token (``xapp-1-A…``): only for methods that take one (apps.connections.open)."""
        token = token or f"xapp-1-{self.app_id}-{secrets.randbelow(10**13):013d}-{secrets.token_hex(32)}"
        with self.lock:
            self.tokens[token] = TokenInfo(
                token=token, scopes=frozenset(scopes), user_id="", bot_id="", kind="app"
            )
        return token

    def issue_socket_ticket(self) -> str:
        with self.lock:
            ticket = secrets.token_hex(16)
            self.socket_tickets[ticket] = self.clock.now()
            return ticket

    # ---- lookups -------------------------------------------------------------------------------
    def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def channel(self, channel_id: str) -> Channel | None:
        return self.channels.get(channel_id)

    def channel_named(self, name: str) -> Channel | None:
        name = name.lstrip("#")
        for ch in self.channels.values():
            if ch.name == name and not ch.is_im:
                return ch
        return None

    def resolve_user(self, ref: User | str) -> User:
        """A User from a User, an id, a name or an email (for the test-facing API)."""
        with self.lock:
            if isinstance(ref, User):
                ref = ref.id
            found = self.users.get(ref) or next(
                (u for u in self.users.values() if ref in (u.name, u.email, u.real_name)), None
            )
            if found is None:
                raise NotFoundError(f"no user {ref!r}; known: {sorted(u.name for u in self.users.values())}")
            return found

    def resolve_channel(self, ref: Channel | str) -> Channel:
        """A Channel from a Channel, an id, or a name with or without '#'."""
        with self.lock:
            if isinstance(ref, Channel):
                ref = ref.id
            found = self.channels.get(ref) or self.channel_named(ref)
            if found is None:
                names = sorted(c.name for c in self.channels.values() if not c.is_im)
                raise NotFoundError(f"no channel {ref!r}; known: {names}")
            return found

    def dm_channel(self, user_id: str) -> Channel:
        """The app's direct-message channel with ``user_id``, opened on first use."""
        with self.lock:
            for ch in self.channels.values():
                if ch.is_im and ch.im_user == user_id:
                    return ch
            ch = Channel(
                id=self.new_id("D"),
                name=user_id,
                creator=user_id,
                created=self.now_int(),
                members=[user_id, self.bot_user.id],
                is_private=True,
                is_im=True,
                im_user=user_id,
            )
            self.channels[ch.id] = ch
            return ch

    def is_member(self, channel: Channel, user_id: str) -> bool:
        return user_id in channel.members

    def message(self, channel_id: str, ts: str) -> Message | None:
        for msg in self.messages.get(channel_id, []):
            if msg.ts == ts and not msg.deleted:
                return msg
        return None

    def thread_root(self, channel_id: str, ts: str) -> str | None:
        """The thread a reply to ``ts`` belongs to (a reply to a reply joins the parent's thread);
        marks the parent as a thread parent. None if ``ts`` is not a message here."""
        parent = self.message(channel_id, ts)
        if parent is None:
            return None
        if parent.thread_ts is None:
            parent.thread_ts = parent.ts
        return parent.thread_ts

    def add_message(self, msg: Message) -> Message:
        with self.lock:
            self.messages[msg.channel].append(msg)
            return msg

    def modal_stack(self, user_id: str) -> list[View]:
        return [self.views[v] for v in self.modal_stacks.get(user_id, []) if v in self.views]

    # ---- interactivity tokens ------------------------------------------------------------------
    def issue_trigger(self, user_id: str, view_id: str | None = None) -> Trigger:
        with self.lock:
            self._counters["trigger"] += 1
            # Slack's shape: "<digits>.<digits>.<hex>" (views.* refuse anything else as invalid_trigger_id).
            team_num = int(self.team_id[1:], 36) % 10**10
            tid = f"{self._counters['trigger'] + 1000000}.{team_num}.{secrets.token_hex(16)}"
            trig = Trigger(id=tid, user=user_id, issued_at=self.clock.now(), view_id=view_id)
            self.triggers[tid] = trig
            return trig

    def issue_response_url(
        self,
        base_url: str,
        *,
        kind: str,
        user_id: str,
        channel_id: str | None,
        source_ts: str | None = None,
        source_ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> ResponseUrl:
        with self.lock:
            rid = f"{self.team_id}/{self.new_id('R')}/{secrets.token_urlsafe(18)}"
            path = "commands" if kind == "command" else "actions"
            ru = ResponseUrl(
                id=rid,
                url=f"{base_url.rstrip('/')}/hooks/{path}/{rid}",
                user=user_id,
                channel=channel_id,
                issued_at=self.clock.now(),
                kind=kind,
                source_ts=source_ts,
                source_ephemeral=source_ephemeral,
                thread_ts=thread_ts,
            )
            self.response_urls[rid] = ru
            return ru

    # ---- recordings ------------------------------------------------------------------------------
    def record_violation(self, kind: str, detail: str, method: str | None = None) -> Violation:
        with self.lock:
            v = Violation(kind=kind, detail=detail, method=method, at=self.clock.now())
            self.violations.append(v)
            return v
