"""Checklist templates: the evidence items each side brings, with their defaults from the domain rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.models import EvidenceItem, ItemRole, Side


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
