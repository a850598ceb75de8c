"""Messages in an incident channel count as activity (they reset the reminder clock); mentions get help."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncSay

from bot.domain.incident import touch
from bot.services.deps import Services
from bot.slack import blocks
from handlers.errors import later


def register(app: AsyncApp, services: Services) -> None:
    async def record_activity(channel: str) -> None:
        incident = await services.store.find_by_channel(channel)
        if incident is not None and incident.active:
            await services.store.mutate(incident.id, lambda i: touch(i, services.clock()), lambda b, a: [])

    @app.event("message")
    async def on_message(event: dict[str, Any]) -> None:
        if event.get("bot_id") or event.get("subtype") in ("bot_message", "channel_join", "channel_topic"):
            return
        # Bolt acks the event when this returns: the Redis write runs after, like every other listener's work.
        later(record_activity(str(event.get("channel", ""))))

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: AsyncSay) -> None:
        await say(text=blocks.help_text(services.config.command), thread_ts=event.get("ts"))

    @app.event("member_joined_channel")
    async def on_join(event: dict[str, Any]) -> None:
        return None
