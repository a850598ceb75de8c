"""AlertDraft: an alert as its source described it, before routing decides severity, assets and side."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.alerts.kinds import SourceKind
from bot.domain.alerts import AlertStatus
from bot.domain.models import Asset, Severity, Side

DETAIL_LIMIT = 4096  # characters kept of one detail value; a source can repeat a long text for every alert

Outcome = Literal["failed", "warned"]


@dataclass(frozen=True)
class AlertDraft:
    """What a normaliser read; a severity, assets or side the payload names explicitly win over the rules."""

    source: SourceKind
    dedup_key: str
    status: AlertStatus
    summary: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    url: str | None = None
    group_key: str | None = None
    outcome: Outcome | None = None  # a data check's outcome: picks the source's default or warn severity
    severity: Severity | None = None
    assets: tuple[Asset, ...] = ()
    side: Side | None = None


def as_text(value: Any, limit: int = DETAIL_LIMIT) -> str:
    """A value as text: strings as they are, anything else as compact JSON; cut to `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def extras_as_text(extra: dict[str, Any] | None, prefix: str = "") -> dict[str, str]:
    """The fields a payload model did not declare (pydantic `model_extra`) as text, empty ones skipped."""
    return {
        f"{prefix}{key}": as_text(value)
        for key, value in (extra or {}).items()
        if value is not None and value != "" and value != {} and value != []
    }


def real_time(value: datetime | None) -> datetime | None:
    """None for Go's zero time (`0001-01-01T00:00:00Z`), which Alertmanager and Grafana send for "not set"."""
    return None if value is None or value.year <= 1 else value
