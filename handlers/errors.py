"""The one place where errors become what a person sees: an ephemeral message in plain words."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest

from bot.domain.errors import Conflict, DomainError, IncidentNotFound
from bot.http_guard import SIGNATURE_VERIFIED
from bot.services.deps import Services
from bot.slack import blocks
from bot.slack.errors import SlackCallFailed
from handlers.request import Request

log = structlog.get_logger(__name__)

SOMETHING_WENT_WRONG = ":x: Something went wrong on our side; it was logged. Please try again."


def user_message(exc: BaseException) -> str | None:
    """What to tell the person, or None for an unexpected error (logged with its trace)."""
    if isinstance(exc, DomainError | SlackCallFailed | IncidentNotFound):
        return blocks.warning_text(str(exc))
    if isinstance(exc, Conflict):
        return ":warning: The incident was changing under heavy load; please try again."
    return None


def authenticated(request: AsyncBoltRequest) -> bool:
    """Only a request whose signature was verified (or one that came over Socket Mode's authenticated socket)
    names someone we may message: an unsigned body could name any user or channel."""
    return request.mode == "socket_mode" or request.context.get(SIGNATURE_VERIFIED) is True


def register(app: AsyncApp, services: Services) -> None:
    """Bolt's error handler, for a listener that failed before it could ack."""

    async def on_error(error: Exception, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        if not authenticated(request):  # no message, no trace: nothing of an unverified request is trusted
            log.warning("listener.failed_unverified", error=type(error).__name__)
            return
        message = user_message(error)
        if message is None:
            log.exception("listener.failed", exc_info=error)
            message = SOMETHING_WENT_WRONG
        try:
            await Request(body).reply(services, message)
        except Exception:
            log.exception("listener.reply_failed")

    app.error(on_error)
