"""Checklist buttons: set an item, confirm for a side, run a playbook; each checks who is clicking."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain.models import Side
from bot.services.deps import Services
from bot.slack import blocks
from bot.slack.ids import ActionId, unpack
from handlers.listener import ack_then, acknowledge
from handlers.request import Request

RUN_PLAYBOOK = re.compile(rf"^{re.escape(ActionId.RUN_PLAYBOOK.value)}\.\d+$")


async def open_evidence_form(services: Services, request: Request, action: dict[str, Any]) -> None:
    incident_id, ref = unpack(action["value"], 2)
    incident = await services.evidence.open_item(incident_id, ref, request.user_id)
    modal = blocks.evidence_modal(incident, incident.evidence[ref])
    await services.replies.open_form(request.trigger_id, modal)


async def open_verdict_form(services: Services, request: Request, action: dict[str, Any]) -> None:
    incident_id, side_value = unpack(action["value"], 2)
    side = Side(side_value)
    incident = await services.evidence.open_verdict(incident_id, side, request.user_id)
    await services.replies.open_form(request.trigger_id, blocks.verdict_modal(incident, side))


async def run_playbook(services: Services, request: Request, action: dict[str, Any]) -> None:
    incident_id, name = unpack(action["value"], 2)
    await services.playbooks.run_by_name(incident_id, name, request.user_id)


def register(app: AsyncApp, services: Services) -> None:
    app.action(ActionId.SET_EVIDENCE.value)(ack_then(services, acknowledge, open_evidence_form))
    app.action(ActionId.CONFIRM_SIDE.value)(ack_then(services, acknowledge, open_verdict_form))
    app.action(RUN_PLAYBOOK)(ack_then(services, acknowledge, run_playbook))
