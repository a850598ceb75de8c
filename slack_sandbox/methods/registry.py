"""The registry of implemented Web API methods, each declaring the error codes it may answer with."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sandbox.config import SandboxConfig
from slack_sandbox.errors import SlackError
from slack_sandbox.models import JSON, Channel, TokenInfo
from slack_sandbox.reference import MethodSpec
from slack_sandbox.workspace import Workspace

Handler = Callable[["CallContext"], JSON]

_FAMILY = {"public": "channels:", "private": "groups:", "im": "im:"}
_FAMILIES = (*_FAMILY.values(), "mpim:")
# Methods whose `channel` Slack documents as "an encoded ID or channel name".
_BY_NAME = frozenset({"chat.postMessage", "chat.postEphemeral"})


@dataclass(frozen=True)
class MethodImpl:
    name: str
    handler: Handler
    raises: frozenset[str]
    token: str = "bot"  # the kind of token the method takes: "bot", or "app" (an app-level token)
    app_scopes: tuple[str, ...] = ()  # scopes an app-level token needs (the reference lists bot scopes only)


REGISTRY: dict[str, MethodImpl] = {}


def api_method(
    name: str, *, raises: Iterable[str] = (), token: str = "bot", app_scopes: Iterable[str] = ()
) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``name``; ``raises``: every code it may answer with (checked at runtime);
    ``token="app"`` for methods that take an app-level token with ``app_scopes``."""

    def wrap(handler: Handler) -> Handler:
        REGISTRY[name] = MethodImpl(
            name=name,
            handler=handler,
            raises=frozenset(raises),
            token=token,
            app_scopes=tuple(app_scopes),
        )
        return handler

    return wrap


@dataclass
class CallContext:
    """What a handler sees: the coerced args, the calling token, the workspace (lock held) and config."""

    spec: MethodSpec
    args: dict[str, Any]
    token: TokenInfo
    ws: Workspace
    config: SandboxConfig
    base_url: str
    warnings: list[str] = field(default_factory=list)
    events: list[JSON] = field(default_factory=list)

    @property
    def bot_id(self) -> str:
        return self.ws.bot_user.id

    def emit(self, event: JSON) -> None:
        """Queue an Events API event caused by this call (sent after the answer, if subscribed)."""
        self.events.append(event)

    def violation(self, kind: str, detail: str) -> None:
        self.ws.record_violation(kind, detail, self.spec.name)

    def str_arg(self, name: str, default: str = "") -> str:
        value = self.args.get(name, default)
        return value if isinstance(value, str) else str(value)

    def bool_arg(self, name: str, default: bool = False) -> bool:
        value = self.args.get(name, default)
        return bool(value)

    def channel(self, name: str = "channel", *, code: str = "channel_not_found") -> Channel:
        """The channel named by arg ``name``; private ones the bot is not in do not exist for it."""
        ref = self.str_arg(name)
        ch = self.ws.channel(ref)
        if ch is None and self.spec.name in _BY_NAME:
            ch = self.ws.channel_named(ref)  # "an encoded ID or channel name"
        if (
            ch is None
            and ref.startswith(("U", "W"))
            and self.ws.user(ref)
            and self.spec.name.startswith("chat.")
        ):
            ch = self.ws.dm_channel(ref)  # chat.* to a user id posts in the app's DM with them
        if ch is None or (ch.is_private and self.bot_id not in ch.members):
            raise SlackError(code)
        self.check_conversation_scope(ch)
        return ch

    def check_conversation_scope(self, ch: Channel) -> None:
        """Slack wants the scope of the conversation's kind (channels:* public, groups:* private...)."""
        family = _FAMILY["im" if ch.is_im else "private" if ch.is_private else "public"]
        listed = [s for s in self.spec.bot_scopes if s.startswith(_FAMILIES)]
        wanted = [s for s in listed if s.startswith(family)]
        if wanted and not (self.token.scopes & set(wanted)):
            raise SlackError(
                "missing_scope", needed=",".join(wanted), provided=",".join(sorted(self.token.scopes))
            )

    def require_member(self, ch: Channel, code: str = "not_in_channel") -> None:
        if self.bot_id not in ch.members:
            raise SlackError(code)
