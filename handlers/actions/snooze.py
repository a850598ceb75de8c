"""Snooze buttons on a reminder: any responder of either side holds the incident's reminders for a while."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import InvalidInput
from bot.domain.reminders import SnoozeChoice
from bot.services.deps import Services
from bot.services.reminders import ReminderService
from bot.slack.ids import ActionId, unpack
from handlers.errors import ack_then, reporting

SNOOZE_ACTION = re.compile(rf"^{re.escape(ActionId.SNOOZE.value)}\.\d+$")


def register(app: AsyncApp, services: Services) -> None:
    async def ack_now(ack: AsyncAck, **_: Any) -> None:
        await ack()

    @reporting
    async def snooze(body: dict[str, Any], client: AsyncWebClient, **_: Any) -> None:
        incident_id, choice = unpack(str(body["actions"][0]["value"]), 2)
        reminders: ReminderService | None = services.extras.get("reminders")
        if reminders is None:
            raise InvalidInput("Reminders are not enabled on this bot.")
        try:
            until = SnoozeChoice(choice)
        except ValueError:
            raise InvalidInput(f"Unknown snooze `{choice}`.") from None
        await reminders.snooze(incident_id, body["user"]["id"], until)

    app.action(SNOOZE_ACTION)(ack_then(ack_now, snooze))
