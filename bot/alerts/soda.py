"""Soda Core scan results: one draft per check whose outcome is `fail` or `warn`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.draft import AlertDraft, Outcome, as_text, extras_as_text
from bot.alerts.kinds import SourceKind
from bot.domain.alerts import AlertStatus
from bot.domain.models import Asset, AssetKind

OUTCOMES: dict[str, Outcome] = {"fail": "failed", "warn": "warned"}


class SodaCheck(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    identity: str = Field(min_length=1, max_length=200)  # stable from run to run
    name: str = ""
    outcome: str | None = None  # pass | warn | fail | null (not evaluated)
    type: str | None = None
    definition: str | None = None
    data_source: str | None = Field(default=None, alias="dataSource")
    table: str | None = None
    column: str | None = None
    filter: str | None = None
    location: dict[str, Any] | None = None
    metrics: list[str] = Field(default_factory=list)
    outcome_reasons: list[Any] = Field(default_factory=list, alias="outcomeReasons")
    diagnostics: dict[str, Any] = Field(default_factory=dict)
    resource_attributes: list[Any] = Field(default_factory=list, alias="resourceAttributes")


class SodaScanResult(BaseModel):
    """`scan.get_scan_results()`; metrics, queries and logs serve the checks and are not kept per alert."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    definition_name: str | None = Field(default=None, alias="definitionName")
    default_data_source: str | None = Field(default=None, alias="defaultDataSource")
    data_timestamp: datetime | None = Field(default=None, alias="dataTimestamp")
    scan_start_timestamp: datetime | None = Field(default=None, alias="scanStartTimestamp")
    checks: list[SodaCheck]


def dedup_key(check: SodaCheck) -> str:
    return f"soda:{check.identity}"


def attributes_of(check: SodaCheck) -> dict[str, str]:
    """Check attributes (`resourceAttributes: [{name, value}]`) become labels, so they can route the alert."""
    out: dict[str, str] = {}
    for item in check.resource_attributes:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item.get("value") is not None:
            out[item["name"]] = as_text(item["value"])
    return out


def summary_of(check: SodaCheck, outcome: Outcome) -> str:
    on = ".".join(p for p in (check.table, check.column) if p)
    text = f"Soda check {outcome}: {check.name or check.identity}" + (f" on {on}" if on else "")
    value = check.diagnostics.get("value")
    return text + (f" (value {as_text(value, 200)})" if isinstance(value, int | float | str) else "")


def draft_of(scan: SodaScanResult, check: SodaCheck, outcome: Outcome) -> AlertDraft:
    derived = {
        "check": check.name,
        "scan": scan.definition_name or "",
        "data_source": check.data_source or scan.default_data_source or "",
        "table": check.table or "",
        "column": check.column or "",
        "check_type": check.type or "",
        "outcome": check.outcome or "",
    }
    labels = attributes_of(check) | {k: v for k, v in derived.items() if v}
    annotations = {"definition": check.definition or "", "diagnostics": as_text(check.diagnostics)}
    if check.outcome_reasons:
        annotations["outcome_reasons"] = as_text(check.outcome_reasons)
    if check.filter:
        annotations["filter"] = check.filter
    loc = check.location or {}
    details = {
        "identity": check.identity,
        "location": ":".join(str(loc[k]) for k in ("filePath", "line", "col") if k in loc),
        "metrics": as_text(check.metrics) if check.metrics else "",
    } | extras_as_text(check.model_extra)
    table = (check.table or "")[:200]
    return AlertDraft(
        source=SourceKind.SODA,
        dedup_key=dedup_key(check),
        status=AlertStatus.FIRING,
        summary=summary_of(check, outcome),
        labels=labels,
        annotations={k: v for k, v in annotations.items() if v},
        details={k: v for k, v in details.items() if v},
        starts_at=scan.data_timestamp or scan.scan_start_timestamp,
        outcome=outcome,
        assets=(Asset(kind=AssetKind.TABLE, name=table),) if table else (),
    )


def drafts(data: object) -> list[AlertDraft]:
    """Validate scan results (pydantic.ValidationError if they do not fit); draft failed and warned checks."""
    scan = SodaScanResult.model_validate(data)
    return [
        draft_of(scan, check, OUTCOMES[check.outcome]) for check in scan.checks if check.outcome in OUTCOMES
    ]
