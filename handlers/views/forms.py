"""Modal submissions: validate in the ack (errors shown next to the fields), act on the parsed form after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.errors import NotAllowed
from bot.domain.models import Side
from bot.domain.permissions import Action
from bot.services.deps import Services
from bot.services.incidents import OpenRequest
from bot.slack import blocks
from bot.slack.ids import BlockId, CallbackId, unpack
from bot.slack.parse import (
    FormErrors,
    OpenSubmission,
    parse_evidence_submission,
    parse_open_submission,
    parse_verdict_submission,
)
from handlers.listener import ack_then
from handlers.request import Request


@dataclass(frozen=True)
class Submitted:
    """A validated form with where it belongs: the incident, and the item ref or the side."""

    incident_id: str
    target: str
    form: Any


def _values(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body["view"].get("state", {}).get("values", {}))


async def _refuse_or_ack(ack: AsyncAck, errors: dict[str, str] | None) -> bool:
    if errors:
        await ack(response_action="errors", errors=errors)
        return False
    await ack()
    return True


async def ack_open(services: Services, ack: AsyncAck, body: dict[str, Any]) -> OpenSubmission | None:
    try:
        form = parse_open_submission(_values(body))
    except FormErrors as exc:
        await _refuse_or_ack(ack, dict(exc.errors))
        return None
    await ack()
    return form


async def open_from_form(services: Services, request: Request, form: OpenSubmission) -> None:
    view = request.body["view"]
    incident, created = await services.incidents.open_incident(
        OpenRequest(
            title=form.title,
            severity=form.severity,
            origin="modal",
            opened_by=request.user_id,
            assets=form.assets,
            description=form.description,
            private=form.private,
            # A double-clicked submit delivers the same view twice: one incident per view.
            idempotency_key=f"view:{view['id']}",
        )
    )
    text = blocks.opened_text(incident.id, incident.channel_id, created)
    await services.replies.tell(request.user_id, text, view.get("private_metadata") or None)


async def _ack_side_form(
    services: Services, ack: AsyncAck, body: dict[str, Any], side: Side, block: BlockId, parse: Any
) -> Any | None:
    """Refuse inside the form (next to the field) what it got wrong, or a person who may not act for the side."""
    action = Action.CONFIRM if block is BlockId.VERDICT else Action.SET_EVIDENCE
    try:
        form = parse()
        await services.evidence.require_side(body["user"]["id"], side, action)
    except FormErrors as exc:
        await _refuse_or_ack(ack, dict(exc.errors))
        return None
    except NotAllowed as exc:
        await _refuse_or_ack(ack, {block.value: str(exc)[:150]})
        return None
    await ack()
    return form


async def ack_evidence(services: Services, ack: AsyncAck, body: dict[str, Any]) -> Submitted | None:
    incident_id, ref = unpack(body["view"]["private_metadata"], 2)
    side = Side(ref.split(".", 1)[0])
    parse = lambda: parse_evidence_submission(_values(body))  # noqa: E731
    form = await _ack_side_form(services, ack, body, side, BlockId.STATUS, parse)
    return None if form is None else Submitted(incident_id, ref, form)


async def save_evidence(services: Services, request: Request, submitted: Submitted) -> None:
    await services.evidence.set_by_person(
        submitted.incident_id, submitted.target, request.user_id, submitted.form
    )


async def ack_verdict(services: Services, ack: AsyncAck, body: dict[str, Any]) -> Submitted | None:
    incident_id, side_value = unpack(body["view"]["private_metadata"], 2)
    side = Side(side_value)
    parse = lambda: parse_verdict_submission(_values(body), side)  # noqa: E731
    form = await _ack_side_form(services, ack, body, side, BlockId.VERDICT, parse)
    return None if form is None else Submitted(incident_id, side_value, form)


async def save_verdict(services: Services, request: Request, submitted: Submitted) -> None:
    side = Side(submitted.target)
    decision = await services.evidence.confirm(submitted.incident_id, side, request.user_id, submitted.form)
    if decision.awaiting and decision.status.value == "proposed":
        receipt = blocks.verdict_text(side.label, [s.label for s in decision.awaiting])
        await services.replies.tell(request.user_id, receipt)


def register(app: AsyncApp, services: Services) -> None:
    app.view(CallbackId.OPEN_INCIDENT.value)(ack_then(services, ack_open, open_from_form))
    app.view(CallbackId.SET_EVIDENCE.value)(ack_then(services, ack_evidence, save_evidence))
    app.view(CallbackId.VERDICT.value)(ack_then(services, ack_verdict, save_verdict))
