"""The normalised Alert: what every alert source is turned into before it meets an incident."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.models import Asset, Severity, Side


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(BaseModel):
    """One alert from any source, normalised; nothing the source carried is dropped.

    The source's own labels and annotations are kept as they came; fields of a source that are neither
    (generator and dashboard URLs, values, check diagnostics) are kept as text in `details`.
    """

    model_config = ConfigDict(frozen=True)

    source: str  # the source kind: alertmanager, grafana, great_expectations, soda, generic
    dedup_key: str = Field(min_length=1, max_length=300)
    status: AlertStatus
    severity: Severity
    summary: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    assets: tuple[Asset, ...] = ()
    side_hint: Side | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    url: str | None = None
    group_key: str | None = None
    details: dict[str, str] = Field(default_factory=dict)  # source-specific extras, as text
    source_name: str | None = None  # the configured source it arrived through (the `{source}` of the URL)
    received_at: datetime | None = None  # when the intake accepted it
