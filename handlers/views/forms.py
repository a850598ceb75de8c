"""Modal submissions: validate in the ack (errors shown next to the fields), act after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import NotAllowed
from bot.domain.models import Side
from bot.services.deps import Services
from bot.services.incidents import OpenRequest
from bot.slack.ids import BlockId, CallbackId, unpack
from bot.slack.parse import (
    FormErrors,
    parse_evidence_submission,
    parse_open_submission,
    parse_verdict_submission,
)
from handlers.errors import ack_then, reporting, tell


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return dict(view.get("state", {}).get("values", {}))


def register(app: AsyncApp, services: Services) -> None:
    async def _ack_form(
        ack: AsyncAck, parse: Callable[[], object], body: dict[str, Any], side: Side, block: BlockId
    ) -> bool:
        """Refuse inside the form (next to the field) what the form got wrong or who may not act for the side."""
        try:
            parse()
            await services.evidence.require_side(body["user"]["id"], side)
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return False
        except NotAllowed as exc:
            await ack(response_action="errors", errors={block.value: str(exc)[:150]})
            return False
        await ack()
        return True

    async def ack_open(ack: AsyncAck, body: dict[str, Any]) -> bool:
        try:
            parse_open_submission(_values(body["view"]))
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return False
        await ack()
        return True

    @reporting
    async def open_incident(
        body: dict[str, Any], client: AsyncWebClient, view: dict[str, Any], **_: Any
    ) -> None:
        form = parse_open_submission(_values(view))
        user = body["user"]["id"]
        incident, created = await services.incidents.open_incident(
            OpenRequest(
                title=form.title,
                severity=form.severity,
                origin="modal",
                opened_by=user,
                assets=form.assets,
                description=form.description,
                private=form.private,
                # A double-clicked submit delivers the same view twice: one incident per view.
                idempotency_key=f"view:{view['id']}",
            )
        )
        text = f"{'Opened' if created else 'Already open:'} {incident.id} in <#{incident.channel_id}>"
        origin_channel = view.get("private_metadata")
        if origin_channel:
            await client.chat_postEphemeral(channel=origin_channel, user=user, text=text)
        else:
            await client.chat_postMessage(channel=user, text=text)

    async def ack_evidence(ack: AsyncAck, body: dict[str, Any]) -> bool:
        view = body["view"]
        _incident_id, ref = unpack(view["private_metadata"], 2)
        side = Side(ref.split(".", 1)[0])
        return await _ack_form(
            ack, lambda: parse_evidence_submission(_values(view)), body, side, BlockId.STATUS
        )

    @reporting
    async def save_evidence(
        body: dict[str, Any], client: AsyncWebClient, view: dict[str, Any], **_: Any
    ) -> None:
        incident_id, ref = unpack(view["private_metadata"], 2)
        form = parse_evidence_submission(_values(view))
        await services.evidence.set_by_person(incident_id, ref, body["user"]["id"], form)

    async def ack_verdict(ack: AsyncAck, body: dict[str, Any]) -> bool:
        view = body["view"]
        _incident_id, side_value = unpack(view["private_metadata"], 2)
        side = Side(side_value)
        return await _ack_form(
            ack, lambda: parse_verdict_submission(_values(view), side), body, side, BlockId.VERDICT
        )

    @reporting
    async def save_verdict(
        body: dict[str, Any], client: AsyncWebClient, view: dict[str, Any], **_: Any
    ) -> None:
        incident_id, side_value = unpack(view["private_metadata"], 2)
        side = Side(side_value)
        form = parse_verdict_submission(_values(view), side)
        decision = await services.evidence.confirm(incident_id, side, body["user"]["id"], form)
        if decision.awaiting and decision.status.value == "proposed":
            waiting = ", ".join(s.label for s in decision.awaiting)
            await tell(
                client,
                {"user": body["user"]},
                f"Thanks, {side.label}'s verdict is recorded. Waiting for: {waiting}.",
            )

    app.view(CallbackId.OPEN_INCIDENT.value)(ack_then(ack_open, open_incident))
    app.view(CallbackId.SET_EVIDENCE.value)(ack_then(ack_evidence, save_evidence))
    app.view(CallbackId.VERDICT.value)(ack_then(ack_verdict, save_verdict))
