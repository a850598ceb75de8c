"""Value types of the domain: sides, severities, assets, evidence items, verdicts, incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Side(StrEnum):
    MLOPS = "mlops"
    DATAOPS = "dataops"

    @property
    def label(self) -> str:
        return "MLOps" if self is Side.MLOPS else "DataOps"

    @property
    def other(self) -> Side:
        return Side.DATAOPS if self is Side.MLOPS else Side.MLOPS


class Severity(StrEnum):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"

    @property
    def label(self) -> str:
        return self.value.upper()

    @classmethod
    def parse(cls, text: str) -> Severity | None:
        """Accept `sev2`, `SEV2`, `2`, `p2`; None when it is not a severity."""
        t = text.strip().lower()
        if t.startswith(("sev", "p")):
            t = t.removeprefix("sev").removeprefix("p")
        return cls.__members__.get(f"SEV{t}") if t.isdigit() else None


class IncidentState(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    DECIDED = "decided"
    RESOLVED = "resolved"
    CLOSED = "closed"


class AssetKind(StrEnum):
    MODEL = "model"
    ENDPOINT = "endpoint"
    TABLE = "table"
    JOB = "job"
    FEATURE = "feature"


class Asset(BaseModel):
    """Something that can fail: a model, a serving endpoint, a table, a job or a feature."""

    model_config = ConfigDict(frozen=True)

    kind: AssetKind
    name: str = Field(min_length=1, max_length=200)

    def __str__(self) -> str:
        return f"{self.kind.value} {self.name}"


class EvidenceStatus(StrEnum):
    UNKNOWN = "unknown"
    OK = "ok"
    ANOMALOUS = "anomalous"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return {"unknown": "Unknown", "ok": "OK", "anomalous": "Anomalous", "not_applicable": "N/A"}[
            self.value
        ]


class ItemRole(StrEnum):
    """How an anomalous evidence item bears on ownership (see docs/decisions.md)."""

    SERVING = "serving"  # the serving path itself is failing: MLOps owns it
    RELEASE = "release"  # the model release path changed (new version, alias): MLOps's own change
    SYMPTOM = "symptom"  # model behaviour (predictions, labels, drift): may be a downstream effect of data
    UPSTREAM = "upstream"  # the data release path: freshness, volume, schema, lineage, jobs, backfills


class EvidenceSource(BaseModel):
    """Who filled an evidence item: a person, or a playbook run and one of its steps."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["person", "playbook", "alert"]
    user_id: str | None = None
    playbook: str | None = None
    run_id: str | None = None
    step: str | None = None

    def describe(self) -> str:
        if self.kind == "person":
            return f"<@{self.user_id}>"
        if self.kind == "playbook":
            return f"playbook {self.playbook} (run {self.run_id}, step {self.step})"
        return "alert"


class EvidenceNote(BaseModel):
    """A finding kept beside a person's entry (a playbook or an alert never overwrites what a person set)."""

    at: datetime
    source: EvidenceSource
    status: EvidenceStatus
    detail: str = ""
    link: str | None = None
    conflict: bool = False  # it differs from the person's entry: the responder decides


class EvidenceItem(BaseModel):
    """One line of a side's checklist."""

    key: str
    side: Side
    label: str
    role: ItemRole
    required_for_shift: bool = False
    status: EvidenceStatus = EvidenceStatus.UNKNOWN
    detail: str = ""
    link: str | None = None
    asset: Asset | None = None
    source: EvidenceSource | None = None
    updated_at: datetime | None = None
    notes: list[EvidenceNote] = Field(default_factory=list)  # findings kept beside a person's entry

    @property
    def ref(self) -> str:
        return f"{self.side.value}.{self.key}"


class VerdictKind(StrEnum):
    OWNS = "owns"  # "our asset failed"
    CLEAR = "clear"  # "our side is clear"
    NEED_MORE = "need_more"  # "need more evidence"

    @property
    def label(self) -> str:
        return {"owns": "Our asset failed", "clear": "Our side is clear", "need_more": "Need more evidence"}[
            self.value
        ]


class Verdict(BaseModel):
    """A side's confirmation, given by one of its responders."""

    side: Side
    kind: VerdictKind
    asset: Asset | None = None
    prevention_owner: str | None = None  # a Slack user id, or a team name
    note: str = ""
    user_id: str
    at: datetime


class Owner(StrEnum):
    MLOPS = "mlops"
    DATAOPS = "dataops"
    JOINT = "joint"
    UNDETERMINED = "undetermined"

    @property
    def label(self) -> str:
        return {"mlops": "MLOps", "dataops": "DataOps", "joint": "Joint", "undetermined": "Undetermined"}[
            self.value
        ]


class TimelineEntry(BaseModel):
    """One append-only line of an incident's history."""

    at: datetime
    kind: str
    text: str
    actor: str | None = None
    data: dict[str, str] = Field(default_factory=dict)
