"""Keeps an incident's Slack messages (card, checklists, topic) in step with its record."""

from __future__ import annotations

import structlog
from slack_sdk.models.blocks import Block

from bot.domain.incident import Incident
from bot.domain.models import Side
from bot.services.directory import ResponderDirectory
from bot.slack import blocks
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.ids import card_block, checklist_block

log = structlog.get_logger(__name__)


class IncidentMessages:
    """Renders and updates in place; never creates a second copy of a message that exists."""

    def __init__(
        self,
        gateway: SlackGateway,
        directory: ResponderDirectory,
        playbook_names: dict[Side, list[str]] | None = None,
    ) -> None:
        self.gateway = gateway
        self.directory = directory
        self.playbook_names = dict(playbook_names or {})  # shown as Run buttons on each checklist

    async def card(self, incident: Incident) -> list[Block]:
        return blocks.incident_card(incident, await self.directory.everyone())

    async def find_posted(self, channel: str, block_id: str) -> str | None:
        """The ts of a message we already posted with that block (resume after a crash without duplicates)."""
        for message in await self.gateway.history(channel, limit=200):
            if any(b.get("block_id") == block_id for b in message.get("blocks", [])):
                return str(message["ts"])
        return None

    async def post_card(self, incident: Incident, fresh_channel: bool = False) -> str:
        """Post the card, unless a crash left one already posted (a channel created just now has none)."""
        assert incident.channel_id is not None
        existing = (
            None if fresh_channel else await self.find_posted(incident.channel_id, card_block(incident.id))
        )
        if existing:
            return existing
        return await self.gateway.post(
            incident.channel_id, blocks.card_text(incident), await self.card(incident)
        )

    async def post_checklist(self, incident: Incident, side: Side, fresh_channel: bool = False) -> str:
        assert incident.channel_id is not None
        block = checklist_block(incident.id, side.value)
        existing = None if fresh_channel else await self.find_posted(incident.channel_id, block)
        if existing:
            return existing
        return await self.gateway.post(
            incident.channel_id, blocks.checklist_text(incident, side), await self._checklist(incident, side)
        )

    async def _checklist(self, incident: Incident, side: Side) -> list[Block]:
        return blocks.checklist(
            incident, side, await self.directory.members(side), self.playbook_names.get(side, [])
        )

    async def refresh(
        self, incident: Incident, sides: tuple[Side, ...] = tuple(Side), topic: bool = False
    ) -> None:
        """Update the card and the given sides' checklists in place; a failure is logged, not raised."""
        if incident.channel_id is None:
            return
        try:
            if incident.card_ts:
                await self.gateway.update(
                    incident.channel_id,
                    incident.card_ts,
                    blocks.card_text(incident),
                    await self.card(incident),
                )
            for side in sides:
                ts = incident.checklist_ts.get(side)
                if ts:
                    await self.gateway.update(
                        incident.channel_id,
                        ts,
                        blocks.checklist_text(incident, side),
                        await self._checklist(incident, side),
                    )
            if topic:
                await self.gateway.set_topic(incident.channel_id, blocks.topic(incident))
        except SlackCallFailed:
            log.exception("messages.refresh_failed", incident_id=incident.id)
