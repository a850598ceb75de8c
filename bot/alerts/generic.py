"""The generic JSON alert format (docs/openapi-generic-alert.yaml): one alert, or `{"alerts": [...]}`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.alerts.draft import AlertDraft, extras_as_text
from bot.alerts.kinds import SourceKind
from bot.domain.alerts import AlertStatus
from bot.domain.models import Asset, Severity, Side

MAX_ALERTS = 1000


def _scalar_as_text(value: Any) -> Any:
    # Numbers and booleans are accepted as label values and kept as their text.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


Text = Annotated[str, BeforeValidator(_scalar_as_text)]


class GenericAlert(BaseModel):
    """One alert in the generic format; fields it does not declare are kept in the Alert's details."""

    model_config = ConfigDict(extra="allow")

    dedup_key: str = Field(min_length=1, max_length=300)
    status: AlertStatus
    summary: str = Field(min_length=1, max_length=2000)
    severity: Severity | None = None
    labels: dict[str, Text] = Field(default_factory=dict)
    annotations: dict[str, Text] = Field(default_factory=dict)
    assets: list[Asset] = Field(default_factory=list, max_length=50)
    side: Side | None = None
    url: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    group_key: str | None = Field(default=None, max_length=300)


class GenericAlertBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alerts: list[GenericAlert] = Field(min_length=1, max_length=MAX_ALERTS)


def draft_of(alert: GenericAlert) -> AlertDraft:
    return AlertDraft(
        source=SourceKind.GENERIC,
        dedup_key=alert.dedup_key,
        status=alert.status,
        summary=alert.summary,
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        details=extras_as_text(alert.model_extra),
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        url=alert.url,
        group_key=alert.group_key,
        severity=alert.severity,
        assets=tuple(alert.assets),
        side=alert.side,
    )


def drafts(data: object) -> list[AlertDraft]:
    """Validate one generic alert or a batch (pydantic.ValidationError if it does not fit) and read it."""
    if isinstance(data, dict) and "alerts" in data:
        return [draft_of(a) for a in GenericAlertBatch.model_validate(data).alerts]
    return [draft_of(GenericAlert.model_validate(data))]
