"""What a playbook run produces: a finding per step, the run record the bot persists, findings per item."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from bot.domain.models import Asset, EvidenceSource, EvidenceStatus, Side

DETAIL_MAX = 500


def clip(text: str, limit: int = DETAIL_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Finding(BaseModel):
    """What a step executor returns: its reading of the evidence."""

    outcome: Literal["ok", "anomalous", "inconclusive"]
    detail: str
    asset: Asset | None = None
    link: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    OK = "ok"
    ANOMALOUS = "anomalous"
    INCONCLUSIVE = "inconclusive"  # the step ran but the evidence cannot say (no baseline, no rows)
    FAILED = "failed"  # error or timeout after its retries

    @property
    def finished(self) -> bool:
        return self not in (StepState.PENDING, StepState.RUNNING)

    @property
    def status(self) -> EvidenceStatus:
        # A step that failed, timed out or could not tell is unknown: never ok.
        return {
            StepState.OK: EvidenceStatus.OK,
            StepState.ANOMALOUS: EvidenceStatus.ANOMALOUS,
        }.get(self, EvidenceStatus.UNKNOWN)


class StepResult(BaseModel):
    """One step of a run, as it stands."""

    id: str
    kind: str
    item_ref: str  # f"{side}.{item}", the checklist item it fills
    state: StepState = StepState.PENDING
    status: EvidenceStatus = EvidenceStatus.UNKNOWN
    detail: str = Field(default="", max_length=DETAIL_MAX)
    asset: Asset | None = None
    link: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    elapsed: float | None = None  # seconds, all attempts and backoff included
    attempts: int = 0
    error: str | None = Field(default=None, max_length=DETAIL_MAX)


class ItemFinding(BaseModel):
    """The steps that fill one checklist item, merged: anomalous wins, then unknown, then ok."""

    item_ref: str
    status: EvidenceStatus
    detail: str
    asset: Asset | None = None
    link: str | None = None
    step: str  # the step whose status the item takes: the source to record
    steps: list[str]


class PlaybookRun(BaseModel):
    """A run of a playbook: JSON-serialisable, secrets already redacted; the bot persists it."""

    run_id: str
    playbook: str
    side: Side
    incident_id: str | None = None
    params: dict[str, str | None] = Field(default_factory=dict)
    started_at: datetime
    finished_at: datetime | None = None
    steps: list[StepResult]

    @property
    def done(self) -> bool:
        return all(s.state.finished for s in self.steps)

    def step(self, step_id: str) -> StepResult:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def evidence_source(self, step_id: str) -> EvidenceSource:
        return EvidenceSource(kind="playbook", playbook=self.playbook, run_id=self.run_id, step=step_id)

    def item_findings(self) -> list[ItemFinding]:
        """One finding per checklist item, in step order, for the finished steps."""
        by_item: dict[str, list[StepResult]] = {}
        for s in self.steps:
            if s.state.finished:
                by_item.setdefault(s.item_ref, []).append(s)
        return [_merge(ref, steps) for ref, steps in by_item.items()]


_RANK = {EvidenceStatus.ANOMALOUS: 0, EvidenceStatus.UNKNOWN: 1, EvidenceStatus.OK: 2}


def _merge(ref: str, steps: list[StepResult]) -> ItemFinding:
    worst = min(steps, key=lambda s: _RANK.get(s.status, 1))
    ordered = sorted(steps, key=lambda s: _RANK.get(s.status, 1))
    if len(steps) == 1:
        detail = worst.detail or worst.error or ""
    else:
        detail = "; ".join(f"{s.id}: {s.detail or s.error or s.state.value}" for s in ordered)
    return ItemFinding(
        item_ref=ref,
        status=worst.status,
        detail=clip(detail),
        asset=worst.asset or next((s.asset for s in ordered if s.asset), None),
        link=worst.link,
        step=worst.id,
        steps=[s.id for s in steps],
    )
