"""Snooze buttons on a reminder: any responder of either side holds the incident's reminders for a while."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain.errors import InvalidInput
from bot.domain.reminders import SnoozeChoice
from bot.services.deps import Services
from bot.slack.ids import ActionId, unpack
from handlers.listener import ack_then, acknowledge
from handlers.request import Request

SNOOZE_ACTION = re.compile(rf"^{re.escape(ActionId.SNOOZE.value)}\.\d+$")


async def snooze(services: Services, request: Request, action: dict[str, Any]) -> None:
    incident_id, choice = unpack(str(action["value"]), 2)
    try:
        until = SnoozeChoice(choice)
    except ValueError:
        raise InvalidInput(f"Unknown snooze `{choice}`.") from None
    await services.reminders.snooze(incident_id, request.user_id, until)


def register(app: AsyncApp, services: Services) -> None:
    app.action(SNOOZE_ACTION)(ack_then(services, acknowledge, snooze))
