"""Recording evidence, confirming a side's verdict, and posting the ownership decision exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from bot.domain.decision import DecisionStatus, OwnershipDecision
from bot.domain.errors import InvalidInput
from bot.domain.evidence import Precedence, record_entry
from bot.domain.incident import Incident, confirm_side
from bot.domain.models import (
    Asset,
    EvidenceItem,
    EvidenceSource,
    EvidenceStatus,
    IncidentState,
    Side,
    TimelineEntry,
    Verdict,
)
from bot.domain.permissions import Action
from bot.domain.submissions import EvidenceSubmission, VerdictSubmission
from bot.services.clock import Clock
from bot.services.directory import ResponderDirectory
from bot.services.messages import IncidentMessages
from bot.slack import blocks
from bot.slack.gateway import SlackGateway
from bot.store.base import IncidentStore

log = structlog.get_logger(__name__)

DECISION_CLAIM_TTL = timedelta(minutes=10)


class EvidenceService:
    def __init__(
        self,
        store: IncidentStore,
        gateway: SlackGateway,
        directory: ResponderDirectory,
        messages: IncidentMessages,
        clock: Clock,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.directory = directory
        self.messages = messages
        self.clock = clock
        self.on_decided: list[Callable[[Incident, OwnershipDecision], None]] = []

    async def require_side(self, user_id: str, side: Side, action: Action = Action.SET_EVIDENCE) -> None:
        """The ack-path pre-check (no incident read); the work after the ack checks again with the incident."""
        await self.directory.require(action, user_id, None, side)

    async def open_item(self, incident_id: str, ref: str, user_id: str) -> Incident:
        """Check that the person may edit the item before the modal opens."""
        incident = await self.store.get(incident_id)
        item = incident.evidence.get(ref)
        if item is None:
            raise InvalidInput(f"There is no checklist item `{ref}` on {incident_id}.")
        await self.directory.require(Action.SET_EVIDENCE, user_id, incident, item.side)
        return incident

    async def open_verdict(self, incident_id: str, side: Side, user_id: str) -> Incident:
        """Check that the person may confirm for the side; the incident, for the verdict modal."""
        incident = await self.store.get(incident_id)
        await self.directory.require(Action.CONFIRM, user_id, incident, side)
        return incident

    async def set_by_person(
        self, incident_id: str, ref: str, user_id: str, form: EvidenceSubmission
    ) -> Incident:
        incident = await self.store.get(incident_id)
        item = incident.evidence.get(ref)
        if item is not None:
            await self.directory.require(Action.SET_EVIDENCE, user_id, incident, item.side)
        source = EvidenceSource(kind="person", user_id=user_id)
        return await self.record(incident_id, ref, form.status, form.detail, source, link=form.link)

    async def record(
        self,
        incident_id: str,
        ref: str,
        status: EvidenceStatus,
        detail: str,
        source: EvidenceSource,
        link: str | None = None,
        asset: Asset | None = None,
    ) -> Incident:
        """Set one item (from a person or a playbook), log it, refresh the checklist and the proposal.

        A playbook's or an alert's finding on an item a person set is kept as a note beside it (domain rule).
        """
        now = self.clock()
        rule: list[Precedence] = [Precedence.SET]

        def change(incident: Incident) -> Incident:
            updated, rule[0] = record_entry(incident, ref, status, detail, source, now, link, asset)
            return updated

        def entry(before: Incident, after: Incident) -> list[TimelineEntry]:
            item = after.evidence[ref]
            if rule[0] is not Precedence.SET:
                return [self._note_entry(item, status, detail, source, rule[0], now)]
            return [
                TimelineEntry(
                    at=now,
                    kind="evidence",
                    text=f"{item.side.label} {item.label}: {status.label} ({source.describe()})"
                    + (f": {detail[:300]}" if detail else ""),
                    actor=source.user_id,
                    data={"ref": ref, "status": status.value},
                )
            ]

        _, after = await self.store.mutate(incident_id, change, entry)
        item = after.evidence[ref]
        await self.messages.refresh(after, sides=(item.side,))
        _, cut = blocks.item_line(item)
        ts = after.checklist_ts.get(item.side)
        if cut and rule[0] is Precedence.SET and after.channel_id and ts:
            await self.gateway.post(
                after.channel_id,
                blocks.full_text(item.label, detail),
                thread_ts=ts,
            )
        return after

    @staticmethod
    def _note_entry(
        item: EvidenceItem,
        status: EvidenceStatus,
        detail: str,
        source: EvidenceSource,
        rule: Precedence,
        now: datetime,
    ) -> TimelineEntry:
        person = item.source.describe() if item.source else "a person"
        text = (
            f"{item.side.label} {item.label}: {source.describe()} found {status.label}"
            + (f": {detail[:300]}" if detail else "")
            + f"; {person}'s entry ({item.status.label}) stands"
            + (", the finding differs from it" if rule is Precedence.CONFLICT else "")
        )
        data = {"ref": item.ref, "status": status.value, "precedence": rule.value}
        return TimelineEntry(at=now, kind="evidence_note", text=text, actor=source.user_id, data=data)

    async def confirm(
        self, incident_id: str, side: Side, user_id: str, form: VerdictSubmission
    ) -> OwnershipDecision:
        """Record a side's verdict; post the decision (once) or the dispute that it produces."""
        await self.directory.require(Action.CONFIRM, user_id, await self.store.get(incident_id), side)
        now = self.clock()
        verdict = Verdict(
            side=side,
            kind=form.kind,
            asset=form.asset,
            prevention_owner=form.prevention_owner,
            note=form.note,
            user_id=user_id,
            at=now,
        )
        outcome: list[OwnershipDecision] = []

        def change(incident: Incident) -> Incident:
            updated, decision = confirm_side(incident, verdict, now)
            outcome[:] = [decision]
            return updated

        def entries(before: Incident, after: Incident) -> list[TimelineEntry]:
            lines = [
                TimelineEntry(
                    at=now,
                    kind="verdict",
                    text=f"{side.label} verdict by <@{user_id}>: {form.kind.label}"
                    + (f" ({form.asset})" if form.asset else ""),
                    actor=user_id,
                    data={"side": side.value, "verdict": form.kind.value},
                )
            ]
            decision = outcome[0]
            if decision.status is DecisionStatus.AGREED:
                lines.append(
                    TimelineEntry(at=now, kind="decision", text=blocks.decision_text(after, decision))
                )
            elif decision.status is DecisionStatus.DISPUTED:
                lines.append(
                    TimelineEntry(at=now, kind="dispute", text="; ".join(d.text for d in decision.disputes))
                )
            return lines

        before, after = await self.store.mutate(incident_id, change, entries)
        decision = outcome[0]
        if decision.status is DecisionStatus.AGREED and before.state is not IncidentState.DECIDED:
            await self.post_decision(after)
        elif decision.status is DecisionStatus.DISPUTED:
            await self._post_dispute(after, decision)
        await self.messages.refresh(after, topic=decision.status is DecisionStatus.AGREED)
        return decision

    async def post_decision(self, incident: Incident) -> None:
        """Post the decision message once, whoever calls (a replica, a retry, the recovery sweep)."""
        decision = incident.decision
        if decision is None or incident.decision_ts or incident.channel_id is None:
            return
        token = f"decision:{incident.id}:{incident.decided_at.isoformat() if incident.decided_at else ''}"
        if not await self.store.claim_once(token, DECISION_CLAIM_TTL):
            return
        ts = await self.gateway.post(
            incident.channel_id,
            blocks.decision_text(incident, decision),
            blocks.decision_message(incident, decision),
        )
        await self.store.mutate(
            incident.id,
            lambda i: i.model_copy(update={"decision_ts": ts}) if i.decided_at == incident.decided_at else i,
            lambda b, a: [],
        )
        log.info("incident.decided", incident_id=incident.id, owner=decision.owner.value)
        for hook in self.on_decided:
            hook(incident, decision)

    async def _post_dispute(self, incident: Incident, decision: OwnershipDecision) -> None:
        if incident.channel_id is None:
            return
        await self.gateway.post(
            incident.channel_id,
            blocks.dispute_text(incident),
            blocks.dispute_message(incident, decision, await self.directory.everyone()),
        )

    async def recover_decisions(self) -> int:
        """At start-up: post decisions recorded but not yet posted (a crash between the two)."""
        posted = 0
        for incident in await self.store.list_active(limit=1000):
            if incident.state is IncidentState.DECIDED and incident.decision_ts is None:
                await self.post_decision(incident)
                posted += 1
        return posted
