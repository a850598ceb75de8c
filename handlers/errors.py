"""The one place where errors become what a person sees: an ephemeral message in plain words."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from bot.domain.errors import Conflict, DomainError, IncidentNotFound
from bot.services.deps import Services
from bot.slack.errors import SlackCallFailed
from handlers.request import Request

log = structlog.get_logger(__name__)

SOMETHING_WENT_WRONG = ":x: Something went wrong on our side; it was logged. Please try again."


def user_message(exc: BaseException) -> str | None:
    """What to tell the person, or None for an unexpected error (logged with its trace)."""
    if isinstance(exc, DomainError | SlackCallFailed | IncidentNotFound):
        return f":warning: {exc}"
    if isinstance(exc, Conflict):
        return ":warning: The incident was changing under heavy load; please try again."
    return None


def register(app: AsyncApp, services: Services) -> None:
    """Bolt's error handler, for a listener that failed before it could ack."""

    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        message = user_message(error)
        if message is None:
            log.exception("listener.failed", exc_info=error)
            message = SOMETHING_WENT_WRONG
        try:
            await Request(body).reply(services, message)
        except Exception:
            log.exception("listener.reply_failed")

    app.error(on_error)
