"""Checklist buttons: set an item, confirm for a side, run a playbook; each checks who is clicking."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.models import Side
from bot.services.deps import Services
from bot.slack import blocks
from bot.slack.ids import ActionId, unpack
from handlers.errors import ack_then, reporting


def _action(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body["actions"][0])


def register(app: AsyncApp, services: Services) -> None:
    async def ack_now(ack: AsyncAck, **_: Any) -> None:
        await ack()

    @reporting
    async def set_evidence(body: dict[str, Any], client: AsyncWebClient, **_: Any) -> None:
        incident_id, ref = unpack(_action(body)["value"], 2)
        incident = await services.evidence.open_item(incident_id, ref, body["user"]["id"])
        await services.gateway.open_view(
            body["trigger_id"], blocks.evidence_modal(incident, incident.evidence[ref])
        )

    @reporting
    async def confirm_side(body: dict[str, Any], client: AsyncWebClient, **_: Any) -> None:
        incident_id, side_value = unpack(_action(body)["value"], 2)
        side = Side(side_value)
        await services.evidence.require_side(body["user"]["id"], side)
        incident = await services.store.get(incident_id)
        await services.gateway.open_view(body["trigger_id"], blocks.verdict_modal(incident, side))

    @reporting
    async def run_playbook(body: dict[str, Any], client: AsyncWebClient, **_: Any) -> None:
        incident_id, name = unpack(_action(body)["value"], 2)
        runner = services.extras.get("playbooks")
        if runner is not None:
            await runner.run_by_name(incident_id, name, body["user"]["id"])

    app.action(ActionId.SET_EVIDENCE.value)(ack_then(ack_now, set_evidence))
    app.action(ActionId.CONFIRM_SIDE.value)(ack_then(ack_now, confirm_side))
    app.action(re.compile(rf"^{re.escape(ActionId.RUN_PLAYBOOK.value)}\.\d+$"))(
        ack_then(ack_now, run_playbook)
    )
