"""SandboxBase: the stand-in's parts, its lifecycle and settings; the people and events build on it."""

from __future__ import annotations

import asyncio
import copy
import secrets
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import fields as dc_fields
from types import TracebackType
from typing import Any, Self, TypeVar

from slack_sandbox.backend import SandboxBackend
from slack_sandbox.clock import SandboxClock
from slack_sandbox.config import SandboxConfig
from slack_sandbox.errors import NotFoundError, SandboxError
from slack_sandbox.faults import Fault, FaultInjector
from slack_sandbox.inbound import Inbound
from slack_sandbox.models import JSON, Channel, User, View
from slack_sandbox.protocols import ChannelRef, UserRef, ViewRef
from slack_sandbox.ratelimit import RateLimiter
from slack_sandbox.reference import Reference, load_reference
from slack_sandbox.server import ServerThread, build_app
from slack_sandbox.socket_mode import SocketHub
from slack_sandbox.web import web_routes
from slack_sandbox.webapi import WebApi
from slack_sandbox.workspace import Workspace

__all__ = ["DEFAULT_EVENT_SUBSCRIPTIONS", "ChannelRef", "SandboxBase", "UserRef", "ViewRef"]

T = TypeVar("T")

# Events the app's manifest subscribes to by default; side effects (e.g. member_joined_channel after an
# invite) are only sent for subscribed events, as Slack does. ``send_event`` always sends.
DEFAULT_EVENT_SUBSCRIPTIONS = frozenset({"app_mention", "app_home_opened"})


class SandboxBase:
    """Holds the workspace, the Web API, the inbound side and the server thread."""

    def __init__(
        self,
        signing_secret: str | None = None,
        request_url: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: SandboxClock | None = None,
        config: SandboxConfig | None = None,
        bot_token: str | None = None,
        bot_scopes: Iterable[str] | None = None,
        bot_name: str = "handoff",
        team_name: str = "Handoff Sandbox",
        team_domain: str = "handoff-sandbox",
        rate_limits: bool = False,
        event_subscriptions: Iterable[str] = DEFAULT_EVENT_SUBSCRIPTIONS,
        reference: Reference | None = None,
    ) -> None:
        self.reference = reference or load_reference()
        self.clock = clock or SandboxClock()
        self.config = config or SandboxConfig()
        self.signing_secret = signing_secret or secrets.token_hex(16)
        self.request_url = request_url
        self.event_subscriptions: set[str] = set(event_subscriptions)
        self.host = host
        self.ws = Workspace(
            self.clock,
            team_name=team_name,
            team_domain=team_domain,
            bot_name=bot_name,
            bot_scopes=bot_scopes,
            bot_token=bot_token,
        )
        self.limiter = RateLimiter(self.clock)
        self.limiter.configure(enabled=rate_limits)
        self.faults = FaultInjector()
        self.webapi = WebApi(
            self.ws, self.reference, self.config, self.limiter, self.faults, lambda: self.base_url
        )
        self.socket = SocketHub(self.ws, self.config)
        self.inbound = Inbound(
            self.ws, self.config, self.signing_secret, lambda: self.request_url, socket=self.socket
        )
        # The app-level token Socket Mode needs (SLACK_APP_TOKEN): apps.connections.open, nothing else.
        self.app_token = self.ws.issue_app_token(["connections:write"])
        self.internal_errors: list[str] = []
        self._message_state: dict[tuple[str, str, str], dict[str, dict[str, JSON]]] = {}
        self._server = ServerThread(
            build_app(SandboxBackend(self, [*web_routes(self), *self.socket.routes()])),
            host=host,
            port=port,
            on_start=self.inbound.open,
            on_stop=self.inbound.close,
        )

    # ---- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> Self:
        await asyncio.to_thread(self._server.start)
        return self

    async def stop(self) -> None:
        await asyncio.to_thread(self._server.stop)

    def start_in_thread(self) -> Self:
        """Synchronous start (for a CLI or sync tests); serving happens in the background thread."""
        self._server.start()
        return self

    def stop_in_thread(self) -> None:
        self._server.stop()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def __enter__(self) -> Self:
        return self.start_in_thread()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_in_thread()

    async def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return await self._server.submit(coro)

    # ---- identity ----------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._server.port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._server.port}"

    @property
    def api_url(self) -> str:
        """What slack_sdk's ``base_url`` (or ``SLACK_API_URL``) takes: ``http://127.0.0.1:P/api/``."""
        return f"{self.base_url}/api/"

    @property
    def bot_token(self) -> str:
        return self.ws.bot_token

    @property
    def bot(self) -> User:
        return copy.deepcopy(self.ws.bot_user)

    @property
    def bot_user_id(self) -> str:
        return self.ws.bot_user.id

    @property
    def bot_id(self) -> str:
        return self.ws.bot_user.bot_id or ""

    @property
    def team_id(self) -> str:
        return self.ws.team_id

    @property
    def app_id(self) -> str:
        return self.ws.app_id

    def issue_token(self, scopes: Iterable[str]) -> str:
        """Another bot token for the same app with exactly ``scopes`` (e.g. to provoke missing_scope)."""
        return self.ws.issue_token(scopes)

    def issue_app_token(self, scopes: Iterable[str] = ("connections:write",)) -> str:
        """Another app-level token (``xapp-…``) with exactly ``scopes``."""
        return self.ws.issue_app_token(scopes)

    def trigger_id(self, user: UserRef) -> str:
        """A fresh trigger_id, as if ``user`` had just clicked something (for calling views.* directly)."""
        with self.ws.lock:
            return self.ws.issue_trigger(self.ws.resolve_user(user).id).id

    def revoke_token(self, token: str) -> None:
        with self.ws.lock:
            self.ws.tokens[token].revoked = True

    # ---- configuration -----------------------------------------------------------------------------
    def configure(self, **changes: Any) -> SandboxConfig:
        """Change timing/limits, e.g. ``configure(ack_timeout=0.3, event_retry_delays=(0, 0, 0))``."""
        known = {f.name for f in dc_fields(SandboxConfig)}
        for key, value in changes.items():
            if key not in known:
                raise TypeError(f"unknown setting {key!r}; known: {sorted(known)}")
            setattr(self.config, key, tuple(value) if key == "event_retry_delays" else value)
        return self.config

    def configure_rate_limits(
        self,
        enabled: bool = True,
        *,
        per_minute: Mapping[str, float] | None = None,
        burst: Mapping[str, float] | None = None,
        post_message_per_second: float | None = None,
        post_message_burst: float | None = None,
    ) -> None:
        self.limiter.configure(
            enabled=enabled,
            per_minute=per_minute,
            burst=burst,
            post_message_per_second=post_message_per_second,
            post_message_burst=post_message_burst,
        )

    def inject(
        self,
        method: str,
        fault: str = "500",
        *,
        count: int = 1,
        retry_after: int = 1,
        delay: float = 1.0,
        error: str = "fatal_error",
    ) -> Fault:
        """The next ``count`` calls of ``method`` ("*" = any) answer ``fault``: "429" (Retry-After
        ``retry_after``), "500", "drop" (connection closed, no effect), "slow" (effect, then the answer
        after ``delay`` s) or "error" (HTTP 200 with the documented code ``error``)."""
        if fault == "error" and method != "*" and error not in self.reference.allowed_errors(method):
            raise ValueError(f"{error!r} is not documented for {method}")
        return self.faults.inject(
            method, fault, count=count, retry_after=retry_after, delay=delay, error=error
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    # ---- resolving what the test names ----------------------------------------------------------------
    def _channel_or_dm(self, ref: ChannelRef) -> Channel:
        if isinstance(ref, User):
            return self.ws.dm_channel(ref.id)
        try:
            return self.ws.resolve_channel(ref)
        except NotFoundError:
            if isinstance(ref, str) and ref in self.ws.users:
                return self.ws.dm_channel(ref)
            raise

    def _visible_channel(self, user: User, ref: ChannelRef | None) -> Channel:
        if ref is None:
            return self.ws.dm_channel(user.id)
        ch = self._channel_or_dm(ref)
        if ch.is_private and user.id not in ch.members:
            raise SandboxError(f"{user.name} cannot see the private channel {ch.name}")
        return ch

    def _view(self, user: User, ref: ViewRef | None, *, modal_only: bool = False) -> View:
        stack = self.ws.modal_stack(user.id)
        if ref is None:
            if stack:
                return stack[-1]
            home = self.ws.views.get(self.ws.home_views.get(user.id, ""))
            if home is not None and not modal_only:
                return home
            raise NotFoundError(f"{user.name} has no open view")
        ref_id = ref.id if isinstance(ref, View) else ref
        candidates = [
            *stack,
            *([] if modal_only else [self.ws.views[v] for v in [self.ws.home_views.get(user.id)] if v]),
        ]
        for v in candidates:
            if ref_id in (v.id, v.title, v.callback_id, v.external_id):
                return v
        raise NotFoundError(
            f"{user.name} has no open view {ref_id!r}; open: {[v.title or v.id for v in candidates]}"
        )
