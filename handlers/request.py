"""One Slack request as the work after the ack sees it: who acted, where, and how to answer only them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncRespond

from bot.services.deps import Services


@dataclass(frozen=True)
class Request:
    """What the work after the ack needs from the Slack request: who, where, and how to answer them."""

    body: dict[str, Any]
    respond: AsyncRespond | None = None

    @property
    def user_id(self) -> str:
        return str(self.body.get("user_id") or (self.body.get("user") or {}).get("id") or "")

    @property
    def channel_id(self) -> str | None:
        body = self.body
        channel = (
            body.get("channel_id")
            or (body.get("channel") or {}).get("id")
            or (body.get("container") or {}).get("channel_id")
        )
        return str(channel) if channel else None

    @property
    def trigger_id(self) -> str:
        return str(self.body.get("trigger_id", ""))

    @property
    def can_respond(self) -> bool:
        return self.respond is not None and bool(
            self.body.get("response_url") or self.body.get("response_urls")
        )

    async def reply(self, services: Services, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """Only the person who acted sees it: through response_url when there is one, else ephemeral or a DM."""
        if self.respond is not None and self.can_respond:
            await self.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            return
        if self.user_id:
            await services.replies.tell(self.user_id, text, self.channel_id)
