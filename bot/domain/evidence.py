"""Checklist templates: the evidence items each side brings, with their defaults from the domain rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.errors import IllegalTransition, InvalidInput
from bot.domain.incident import Incident, record_evidence
from bot.domain.models import (
    Asset,
    EvidenceItem,
    EvidenceNote,
    EvidenceSource,
    EvidenceStatus,
    ItemRole,
    Side,
)


class ItemKey(StrEnum):
    MODEL_VERSION = "model_version"
    SERVING_HEALTH = "serving_health"
    PREDICTION_LOGS = "prediction_logs"
    LABEL_FEEDBACK = "label_feedback"
    DRIFT_SIGNALS = "drift_signals"
    TABLE_FRESHNESS = "table_freshness"
    VOLUME = "volume"
    SCHEMA_CHANGES = "schema_changes"
    FEATURE_LINEAGE = "feature_lineage"
    FAILED_JOBS = "failed_jobs"
    RECENT_BACKFILLS = "recent_backfills"


class ChecklistItemSpec(BaseModel):
    """One item of a side's checklist template."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=60)
    role: ItemRole
    hint: str = Field(default="", max_length=200)
    # An item that must be known (not unknown) before a population shift can be told from a data failure.
    required_for_shift: bool = False


DEFAULT_CHECKLISTS: Mapping[Side, tuple[ChecklistItemSpec, ...]] = {
    Side.MLOPS: (
        ChecklistItemSpec(
            key=ItemKey.MODEL_VERSION,
            label="Model version",
            role=ItemRole.RELEASE,
            hint="Registry: a new version or alias change shortly before the incident",
        ),
        ChecklistItemSpec(
            key=ItemKey.SERVING_HEALTH,
            label="Serving health",
            role=ItemRole.SERVING,
            hint="Endpoint ready, error rate, latency within budget",
        ),
        ChecklistItemSpec(
            key=ItemKey.PREDICTION_LOGS,
            label="Prediction logs",
            role=ItemRole.SYMPTOM,
            hint="Volume drop, nulls, collapsed or shifted prediction distribution",
        ),
        ChecklistItemSpec(
            key=ItemKey.LABEL_FEEDBACK,
            label="Label feedback",
            role=ItemRole.SYMPTOM,
            hint="Quality metric on labelled predictions vs its floor",
        ),
        ChecklistItemSpec(
            key=ItemKey.DRIFT_SIGNALS,
            label="Drift signals",
            role=ItemRole.SYMPTOM,
            hint="PSI > 0.25 or KS p < 0.05 on a large sample",
        ),
    ),
    Side.DATAOPS: (
        ChecklistItemSpec(
            key=ItemKey.TABLE_FRESHNESS,
            label="Table freshness",
            role=ItemRole.UPSTREAM,
            hint="max(updated_at) of upstream tables vs their SLA",
            required_for_shift=True,
        ),
        ChecklistItemSpec(
            key=ItemKey.VOLUME,
            label="Volume",
            role=ItemRole.UPSTREAM,
            hint="Rows in the window vs a trailing baseline",
            required_for_shift=True,
        ),
        ChecklistItemSpec(
            key=ItemKey.SCHEMA_CHANGES,
            label="Schema changes",
            role=ItemRole.UPSTREAM,
            hint="Columns and types vs the last snapshot",
            required_for_shift=True,
        ),
        ChecklistItemSpec(
            key=ItemKey.FEATURE_LINEAGE,
            label="Feature lineage",
            role=ItemRole.UPSTREAM,
            hint="Tables and jobs feeding the affected features",
            required_for_shift=True,
        ),
        ChecklistItemSpec(
            key=ItemKey.FAILED_JOBS,
            label="Failed jobs",
            role=ItemRole.UPSTREAM,
            hint="Failed orchestrator runs feeding the affected assets",
        ),
        ChecklistItemSpec(
            key=ItemKey.RECENT_BACKFILLS,
            label="Recent backfills",
            role=ItemRole.UPSTREAM,
            hint="Backfills or full refreshes that rewrote upstream data",
        ),
    ),
}


class Checklists(BaseModel):
    """The checklist templates in force: per side, the items in display order."""

    model_config = ConfigDict(frozen=True)

    items: dict[Side, tuple[ChecklistItemSpec, ...]] = Field(default_factory=lambda: dict(DEFAULT_CHECKLISTS))

    def for_side(self, side: Side) -> tuple[ChecklistItemSpec, ...]:
        return self.items.get(side, ())

    def spec(self, side: Side, key: str) -> ChecklistItemSpec | None:
        return next((s for s in self.for_side(side) if s.key == key), None)

    def blank_evidence(self) -> dict[str, EvidenceItem]:
        """Every item of both sides, unknown: what a new incident starts with."""
        blank: dict[str, EvidenceItem] = {}
        for side in Side:
            for spec in self.for_side(side):
                item = EvidenceItem(
                    key=spec.key,
                    side=side,
                    label=spec.label,
                    role=spec.role,
                    required_for_shift=spec.required_for_shift,
                )
                blank[item.ref] = item
        return blank

    def refs(self) -> Iterable[str]:
        return (f"{side.value}.{s.key}" for side in Side for s in self.for_side(side))


# --- Precedence: a person's entry is never overwritten by a playbook or an alert ---------------------------------

MAX_NOTES = 5  # findings kept beside one entry; the oldest go (the timeline keeps them all)


class Precedence(StrEnum):
    SET = "set"  # the entry becomes the item's value
    NOTE = "note"  # kept beside a person's entry: it agrees, or it could not check
    CONFLICT = "conflict"  # kept beside a person's entry, and it differs from it: the responder decides


def precedence(item: EvidenceItem, source: EvidenceSource, status: EvidenceStatus) -> Precedence:
    """A person's entry replaces anything; a finding replaces anything but a person's entry."""
    if source.kind == "person" or item.source is None or item.source.kind != "person":
        return Precedence.SET
    if status is EvidenceStatus.UNKNOWN or status is item.status:
        return Precedence.NOTE
    return Precedence.CONFLICT


def record_entry(
    incident: Incident,
    ref: str,
    status: EvidenceStatus,
    detail: str,
    source: EvidenceSource,
    now: datetime,
    link: str | None = None,
    asset: Asset | None = None,
) -> tuple[Incident, Precedence]:
    """Record an entry by the precedence rule: set the item, or keep the finding as a note beside a person's entry.

    A value set anew (by a person, or a finding on an item no person set) drops the notes of the entry it replaces.
    """
    item = incident.evidence.get(ref)
    if item is None:
        raise InvalidInput(f"There is no checklist item `{ref}` on this incident.")
    rule = precedence(item, source, status)
    if rule is Precedence.SET:
        updated = record_evidence(incident, ref, status, detail, source, now, link, asset)
        cleared = updated.evidence[ref].model_copy(update={"notes": []})
        return updated.model_copy(update={"evidence": {**updated.evidence, ref: cleared}}), rule
    if not incident.awaiting_decision:
        raise IllegalTransition(
            f"Evidence is frozen once the incident is {incident.state.value}; use `reopen` to change it."
        )
    note = EvidenceNote(
        at=now, source=source, status=status, detail=detail, link=link, conflict=rule is Precedence.CONFLICT
    )
    noted = item.model_copy(update={"notes": [*item.notes, note][-MAX_NOTES:]})
    evidence = {**incident.evidence, ref: noted}
    return incident.model_copy(update={"evidence": evidence, "updated_at": now}), rule
