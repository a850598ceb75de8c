"""Messages in an incident channel count as activity (they reset the reminder clock); mentions get help."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services.deps import Services
from bot.slack import blocks
from handlers.listener import on_event

QUIET_SUBTYPES = ("bot_message", "channel_join", "channel_topic")


async def record_activity(services: Services, event: dict[str, Any]) -> None:
    """A person's message resets the reminder clock; the Redis write runs after the event's ack."""
    if event.get("bot_id") or event.get("subtype") in QUIET_SUBTYPES:
        return
    services.tasks.spawn(services.incidents.record_activity(str(event.get("channel", ""))))


async def answer_mention(services: Services, event: dict[str, Any]) -> None:
    help_text = blocks.help_text(services.config.command)
    channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
    services.tasks.spawn(services.replies.in_thread(channel, ts, help_text))


async def ignore_join(services: Services, event: dict[str, Any]) -> None:
    """Joins are expected (the bot invites people); handled so Bolt does not warn about them."""


def register(app: AsyncApp, services: Services) -> None:
    app.event("message")(on_event(services, record_activity))
    app.event("app_mention")(on_event(services, answer_mention))
    app.event("member_joined_channel")(on_event(services, ignore_join))
