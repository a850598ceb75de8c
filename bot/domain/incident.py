"""The Incident aggregate and the pure operations on it: each returns a new incident, never mutates."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from bot.domain.decision import DecisionStatus, OwnershipDecision, decide_ownership
from bot.domain.errors import IllegalTransition, InvalidInput
from bot.domain.models import (
    Asset,
    EvidenceItem,
    EvidenceSource,
    EvidenceStatus,
    IncidentState,
    Severity,
    Side,
    Verdict,
    VerdictKind,
)
from bot.domain.state import ACTIVE_STATES, IncidentEvent, next_state

Origin = Literal["command", "modal", "alert"]


class OpeningProgress(BaseModel):
    """Which steps of opening an incident are done, so a restart resumes instead of repeating them."""

    channel_created: bool = False
    members_invited: bool = False
    topic_set: bool = False
    card_posted: bool = False
    card_pinned: bool = False
    checklists_posted: bool = False
    failed_invites: dict[str, str] = Field(default_factory=dict)  # user id -> Slack error

    @property
    def done(self) -> bool:
        return all(
            (
                self.channel_created,
                self.members_invited,
                self.topic_set,
                self.card_posted,
                self.card_pinned,
                self.checklists_posted,
            )
        )


class ReminderState(BaseModel):
    sent: int = 0  # reminders sent since the last activity
    last_sent_at: datetime | None = None
    snoozed_until: datetime | None = None
    escalated: bool = False


class Incident(BaseModel):
    """One incident: its record, its Slack anchors, its evidence and verdicts."""

    id: str
    title: str = Field(min_length=1, max_length=150)
    severity: Severity
    state: IncidentState = IncidentState.OPEN
    description: str = ""
    origin: Origin = "command"
    opened_by: str | None = None
    commander: str | None = None
    assets: list[Asset] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)  # labels of the alert that opened it
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    private: bool = False

    channel_id: str | None = None
    channel_name: str | None = None
    card_ts: str | None = None
    checklist_ts: dict[Side, str] = Field(default_factory=dict)
    opening: OpeningProgress = Field(default_factory=OpeningProgress)

    evidence: dict[str, EvidenceItem] = Field(default_factory=dict)
    verdicts: dict[Side, Verdict] = Field(default_factory=dict)
    decision: OwnershipDecision | None = None  # the posted (agreed) decision
    decided_at: datetime | None = None
    decision_ts: str | None = None
    resolution_note: str | None = None
    alert_keys: list[str] = Field(default_factory=list)
    alerts_firing: list[str] = Field(default_factory=list)
    alert_notes: list[str] = Field(default_factory=list)  # alert news not yet announced in the channel
    reminders: ReminderState = Field(default_factory=ReminderState)
    version: int = 0

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def awaiting_decision(self) -> bool:
        return self.state in (IncidentState.OPEN, IncidentState.INVESTIGATING)

    def proposal(self) -> OwnershipDecision:
        """The live proposal from the current evidence and verdicts."""
        return decide_ownership(self.evidence.values(), self.verdicts, self.assets)

    def items_for(self, side: Side) -> list[EvidenceItem]:
        return [i for i in self.evidence.values() if i.side is side]

    def owing(self) -> dict[Side, list[str]]:
        """Per side, what it still owes: unknown evidence items and a missing confirmation."""
        owed: dict[Side, list[str]] = {}
        for side in Side:
            lines = [i.label for i in self.items_for(side) if i.status is EvidenceStatus.UNKNOWN]
            # "Need more evidence" is not a confirmation: the side still owes one (as decision.awaiting says).
            if side not in self.verdicts or self.verdicts[side].kind is VerdictKind.NEED_MORE:
                lines.append("confirmation")
            if lines:
                owed[side] = lines
        return owed


def apply_event(incident: Incident, event: IncidentEvent, now: datetime) -> Incident:
    """Move the incident through the state machine, or raise IllegalTransition."""
    state = next_state(incident.state, event)
    # The table knows states only; these two moves also need what DOMAIN.md says they rest on.
    if event is IncidentEvent.DECIDE and (
        incident.decision is None or incident.decision.status is not DecisionStatus.AGREED
    ):
        raise IllegalTransition("An incident is decided only by both sides confirming agreeing verdicts.")
    if event is IncidentEvent.CLOSE and (incident.decision is None or not incident.resolution_note):
        raise IllegalTransition("An incident is closed only after a decision and a resolution note.")
    return incident.model_copy(update={"state": state, "updated_at": now})


def touch(incident: Incident, now: datetime) -> Incident:
    """Activity resets the reminder clock."""
    return incident.model_copy(
        update={"last_activity_at": now, "updated_at": now, "reminders": ReminderState()}
    )


def record_evidence(
    incident: Incident,
    ref: str,
    status: EvidenceStatus,
    detail: str,
    source: EvidenceSource,
    now: datetime,
    link: str | None = None,
    asset: Asset | None = None,
) -> Incident:
    """Set one checklist item; refused once the incident is decided (reopen first)."""
    if not incident.awaiting_decision:
        raise IllegalTransition(
            f"Evidence is frozen once the incident is {incident.state.value}; use `reopen` to change it."
        )
    item = incident.evidence.get(ref)
    if item is None:
        raise InvalidInput(f"There is no checklist item `{ref}` on this incident.")
    updated = item.model_copy(
        update={
            "status": status,
            "detail": detail,
            "link": link,
            "source": source,
            "updated_at": now,
            "asset": asset or item.asset,
        }
    )
    evidence = {**incident.evidence, ref: updated}
    state = incident.state
    if state is IncidentState.OPEN:
        state = next_state(state, IncidentEvent.INVESTIGATE)
    return touch(incident, now).model_copy(update={"evidence": evidence, "state": state})


def confirm_side(incident: Incident, verdict: Verdict, now: datetime) -> tuple[Incident, OwnershipDecision]:
    """Record a side's verdict; returns the incident and the decision as it now stands.

    An agreed decision moves the incident to decided; a dispute clears both confirmations.
    """
    if not incident.awaiting_decision:
        raise IllegalTransition(
            f"The incident is already {incident.state.value}; "
            "verdicts can be revised only before the decision."
        )
    if verdict.kind is VerdictKind.OWNS and (verdict.asset is None or not verdict.prevention_owner):
        raise InvalidInput('"Our asset failed" needs the failed asset and who owns the prevention work.')
    verdicts = {**incident.verdicts, verdict.side: verdict}
    current = touch(incident, now).model_copy(update={"verdicts": verdicts})
    decision = current.proposal()
    if decision.status is DecisionStatus.AGREED:
        current = apply_event(
            current.model_copy(update={"decision": decision, "decided_at": now}), IncidentEvent.DECIDE, now
        )
    elif decision.status is DecisionStatus.DISPUTED:
        current = current.model_copy(update={"verdicts": {}})
    return current, decision


def reopen(incident: Incident, now: datetime) -> Incident:
    """Withdraw a decision made in error: verdicts and decision are cleared, evidence is kept."""
    moved = apply_event(touch(incident, now), IncidentEvent.REOPEN, now)
    return moved.model_copy(
        update={
            "decision": None,
            "decided_at": None,
            "decision_ts": None,
            "verdicts": {},
            "resolution_note": None,
        }
    )


def close(incident: Incident, note: str, now: datetime) -> Incident:
    """Resolve (if needed) and close a decided incident with a resolution note."""
    if not note.strip():
        raise InvalidInput("Closing needs a resolution note: `/incident close <what was done>`.")
    current = incident
    if current.state is IncidentState.DECIDED:
        current = apply_event(current, IncidentEvent.RESOLVE, now)
    return apply_event(current.model_copy(update={"resolution_note": note.strip()}), IncidentEvent.CLOSE, now)


_SLUG_DROP = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = 40) -> str:
    """A Slack-safe channel-name fragment: lowercase ascii letters, digits and dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = _SLUG_DROP.sub("-", ascii_text).strip("-")
    return slug[:max_length].rstrip("-") or "incident"


def channel_name(template: str, incident: Incident, attempt: int = 0) -> str:
    """The channel name from the template; attempt > 0 adds a suffix after `name_taken`."""
    values = {
        "yyyymmdd": incident.created_at.strftime("%Y%m%d"),
        "date": incident.created_at.strftime("%Y-%m-%d"),
        "slug": slugify(incident.title),
        "id": incident.id.lower(),
        "severity": incident.severity.value,
    }
    name = template.format(**values).lower()
    # Slack refuses an empty name; a template of fields that clean away to nothing must still give one.
    name = re.sub(r"[^a-z0-9_-]+", "-", name).strip("-_") or "incident"
    suffix = f"-{attempt + 1}" if attempt else ""
    return name[: 80 - len(suffix)].rstrip("-_") + suffix
