"""The one place where errors become what a person sees: an ephemeral message in plain words."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import DomainError
from bot.services.deps import Services
from bot.slack.gateway import SlackCallFailed
from bot.store.base import Conflict, IncidentNotFound

log = structlog.get_logger(__name__)


def user_message(exc: BaseException) -> str | None:
    """What to tell the person, or None for an unexpected error (logged with its trace)."""
    if isinstance(exc, DomainError | SlackCallFailed | IncidentNotFound):
        return f":warning: {exc}"
    if isinstance(exc, Conflict):
        return ":warning: The incident was changing under heavy load; please try again."
    return None


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    channel = (
        body.get("channel_id")
        or (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
    )
    return channel, user


async def tell(client: AsyncWebClient, body: dict[str, Any], text: str, respond: Any = None) -> None:
    """Show `text` to the person who acted: via response_url when there is one, else an ephemeral message."""
    try:
        if respond is not None and (body.get("response_url") or body.get("response_urls")):
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        channel, user = _where(body)
        if channel and user:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif user:
            await client.chat_postMessage(channel=user, text=text)
    except Exception:
        log.exception("errors.tell_failed")


INFLIGHT: set[asyncio.Task[Any]] = set()  # lazy listeners still working after their ack


async def drain_inflight(grace: float) -> None:
    """On shutdown, give the work started after acks a moment to finish before connections close."""
    pending = [t for t in INFLIGHT if not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=grace)


def reporting(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Wrap a lazy listener: a domain error becomes an ephemeral message, anything else is logged."""

    @functools.wraps(fn)
    async def wrapper(
        body: dict[str, Any], client: AsyncWebClient, respond: Any = None, **kwargs: Any
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            INFLIGHT.add(task)
            task.add_done_callback(INFLIGHT.discard)
        try:
            await fn(body=body, client=client, respond=respond, **kwargs)
        except Exception as exc:
            message = user_message(exc)
            if message is None:
                log.exception("listener.failed", listener=fn.__name__)
                message = ":x: Something went wrong on our side; it was logged. Please try again."
            else:
                log.info("listener.refused", listener=fn.__name__, reason=str(exc))
            await tell(client, body, message, respond)

    return wrapper


AckFunction = Callable[..., Awaitable[bool | None]]
Work = Callable[..., Awaitable[None]]


def later(work: Awaitable[None]) -> None:
    """Start work after the ack, tracked so a shutdown can let it finish."""
    task = asyncio.ensure_future(work)
    INFLIGHT.add(task)
    task.add_done_callback(_finished)


def _finished(task: asyncio.Task[Any]) -> None:
    INFLIGHT.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("listener.work_failed", exc_info=task.exception())


def ack_then(ack_fn: AckFunction, *work: Work) -> Callable[..., Awaitable[None]]:
    """A Bolt listener: `ack_fn(ack=, body=)` answers Slack; then each `work` starts as a task.

    With process_before_response=True Bolt sends the answer when the listener returns, so the listener only
    parses and acks, and everything slow runs after. (Bolt's lazy listeners do the same but copy the whole
    request for each one; this costs nothing per request.) `ack_fn` returning False skips the work.
    """

    async def listener(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        if await ack_fn(ack=ack, body=body) is False:
            return
        for fn in work:
            later(fn(body=body, client=client, respond=respond, view=body.get("view")))

    return listener


def register(app: AsyncApp, services: Services) -> None:
    @app.error
    async def on_error(error: Exception, body: dict[str, Any], client: AsyncWebClient, logger: Any) -> None:
        message = user_message(error)
        if message is None:
            log.exception("listener.failed", exc_info=error)
            message = ":x: Something went wrong on our side; it was logged. Please try again."
        await tell(client, body, message)
