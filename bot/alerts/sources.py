"""Which reader each source kind uses, and `normalise`: a decoded payload to routed Alerts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from bot.alerts import alertmanager, generic, grafana, great_expectations, soda
from bot.alerts.config import AlertSourceConfig
from bot.alerts.draft import AlertDraft
from bot.alerts.kinds import SourceKind
from bot.alerts.routing import RoutingRules
from bot.domain.alerts import Alert

Reader = Callable[[object], list[AlertDraft]]

READERS: Mapping[SourceKind, Reader] = {
    SourceKind.ALERTMANAGER: alertmanager.drafts,
    SourceKind.GRAFANA: grafana.drafts,
    SourceKind.GREAT_EXPECTATIONS: great_expectations.drafts,
    SourceKind.SODA: soda.drafts,
    SourceKind.GENERIC: generic.drafts,
}


def normalise(
    data: object,
    source: AlertSourceConfig,
    routing: RoutingRules,
    *,
    source_name: str | None = None,
    received_at: datetime | None = None,
) -> list[Alert]:
    """The Alerts a decoded JSON payload of `source` carries; pydantic.ValidationError if it does not fit.

    The source's static labels are added under the alert's own; routing then decides what the payload did
    not say explicitly: severity, assets from labels, side hint. `source_name` and `received_at` are stamped
    on every alert.
    """
    drafts = READERS[source.kind](data)
    if source.labels:
        drafts = [replace(d, labels=source.labels | d.labels) for d in drafts]
    return [
        routing.classify(
            d,
            default_severity=source.default_severity,
            warn_severity=source.warn_severity,
            source_name=source_name,
            received_at=received_at,
        )
        for d in drafts
    ]
