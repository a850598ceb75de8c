"""How every Bolt listener is built: parse and answer in the ack, then run the work after it, tracked.

With `process_before_response=True` Bolt sends the HTTP answer (the ack) when the listener returns, so a listener
made by `ack_then` only parses, validates and acks; the value its ack step returns is handed to the work, which
runs as a tracked background task (`Services.tasks`, drained on shutdown). Bolt's lazy listeners would do the
same but copy the whole request for each lazy function (bench/bench_ack.py measures the difference).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from slack_bolt.async_app import AsyncAck

from bot.services.deps import Services
from handlers.errors import SOMETHING_WENT_WRONG, user_message
from handlers.request import Request

log = structlog.get_logger(__name__)

T = TypeVar("T")
AckStep = Callable[[Services, AsyncAck, dict[str, Any]], Awaitable[T | None]]
WorkStep = Callable[[Services, Request, T], Awaitable[None]]


async def acknowledge(services: Services, ack: AsyncAck, body: dict[str, Any]) -> dict[str, Any]:
    """The ack step of a button: answer at once, hand the clicked action to the work."""
    await ack()
    return dict(body["actions"][0])


async def run_reporting(services: Services, work: WorkStep[T], request: Request, parsed: T) -> None:
    """Run the work; a refusal becomes an ephemeral message in plain words, anything else is logged."""
    try:
        await work(services, request, parsed)
    except Exception as exc:
        message = user_message(exc)
        if message is None:
            log.exception("listener.failed", listener=work.__name__)
            message = SOMETHING_WENT_WRONG
        else:
            log.info("listener.refused", listener=work.__name__, reason=str(exc))
        try:
            await request.reply(services, message)
        except Exception:
            log.exception("listener.reply_failed", listener=work.__name__)


def ack_then(services: Services, ack_step: AckStep[T], work: WorkStep[T]) -> Callable[..., Awaitable[None]]:
    """A Bolt listener: `ack_step` answers Slack and returns what the work needs (None: nothing to do)."""

    async def listener(ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        parsed = await ack_step(services, ack, body)
        if parsed is not None:
            request = Request(body, respond)
            services.tasks.spawn(run_reporting(services, work, request, parsed), event="listener.work_failed")

    listener.__name__ = work.__name__
    return listener


def on_event(
    services: Services, handle: Callable[[Services, dict[str, Any]], Awaitable[None]]
) -> Callable[..., Awaitable[None]]:
    """An Events API listener: Bolt acks when it returns, so `handle` only decides and spawns the work."""

    async def listener(event: dict[str, Any]) -> None:
        await handle(services, event)

    listener.__name__ = handle.__name__
    return listener
