"""Answers to the person who acted: an ephemeral note, a direct message, a form, a reply in a thread."""

from __future__ import annotations

from slack_sdk.models.views import View

from bot.slack.gateway import SlackGateway


class Replies:
    """What a listener may say back; every call goes through the gateway (retries, plain-word errors)."""

    def __init__(self, gateway: SlackGateway) -> None:
        self._gateway = gateway

    async def tell(self, user_id: str, text: str, channel_id: str | None = None) -> None:
        """Only `user_id` sees `text`: ephemeral in `channel_id` when given, else a direct message."""
        if channel_id:
            await self._gateway.ephemeral(channel_id, user_id, text)
        else:
            await self._gateway.post(user_id, text)

    async def in_thread(self, channel_id: str, thread_ts: str, text: str) -> None:
        await self._gateway.post(channel_id, text, thread_ts=thread_ts)

    async def open_form(self, trigger_id: str, view: View) -> None:
        await self._gateway.open_view(trigger_id, view)
