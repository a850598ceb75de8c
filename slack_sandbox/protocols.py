"""What the HTTP side and the live page need from a sandbox, as protocols, so they import no sandbox class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from slack_sandbox.config import SandboxConfig
from slack_sandbox.inbound import Ack, Inbound
from slack_sandbox.models import Channel, User, View
from slack_sandbox.webapi import WebApi
from slack_sandbox.workspace import Workspace

UserRef = User | str
ChannelRef = Channel | User | str  # a User means the app's DM with them
ViewRef = View | str


class SandboxParts(Protocol):
    """The parts that serve requests (``SandboxBase`` has them): what backend.py and the live page use."""

    ws: Workspace
    config: SandboxConfig
    webapi: WebApi
    inbound: Inbound
    request_url: str | None
    event_subscriptions: set[str]
    internal_errors: list[str]


@runtime_checkable
class People(SandboxParts, Protocol):
    """A sandbox with people who act (``SlackSandbox``): the person API the live page's act endpoint calls."""

    async def click(
        self,
        user: UserRef,
        text: str | None = None,
        *,
        channel: ChannelRef | None = None,
        message_ts: str | None = None,
        view: ViewRef | None = None,
        block_id: str | None = None,
        action_id: str | None = None,
        value: str | None = None,
        confirm: bool = True,
    ) -> Ack | None: ...

    async def select(
        self,
        user: UserRef,
        label_text: str,
        value: Any,
        *,
        channel: ChannelRef | None = None,
        message_ts: str | None = None,
        view: ViewRef | None = None,
    ) -> Ack: ...

    async def submit_view(
        self,
        user: UserRef,
        view: ViewRef | None = None,
        values: Mapping[str, Any] | None = None,
        *,
        times: int = 1,
    ) -> Ack: ...

    async def close_view(self, user: UserRef, view: ViewRef | None = None) -> Ack | None: ...

    def open_views(self, user: UserRef) -> list[View]: ...
