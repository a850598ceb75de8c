"""Prometheus counters of the alert intake: alerts accepted and requests refused, by source and reason."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import ClassVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter

UNKNOWN_SOURCE = "unknown"  # the label for any source name not configured: never the raw path (cardinality)


@dataclass(frozen=True)
class IntakeMetrics:
    requests_accepted: Counter
    alerts_accepted: Counter
    requests_refused: Counter

    _by_registry: ClassVar[weakref.WeakKeyDictionary[CollectorRegistry, IntakeMetrics]] = (
        weakref.WeakKeyDictionary()
    )

    @classmethod
    def on(cls, registry: CollectorRegistry | None = None) -> IntakeMetrics:
        """The intake's counters on `registry` (default: the global one), registered once per registry."""
        registry = REGISTRY if registry is None else registry
        found = cls._by_registry.get(registry)
        if found is None:
            found = cls(
                requests_accepted=Counter(
                    "handoff_alert_requests_accepted",
                    "Alert webhook requests accepted (202), by source",
                    ["source"],
                    registry=registry,
                ),
                alerts_accepted=Counter(
                    "handoff_alerts_accepted",
                    "Alerts persisted to the inbox, by source",
                    ["source"],
                    registry=registry,
                ),
                requests_refused=Counter(
                    "handoff_alert_requests_refused",
                    "Alert webhook requests refused, by source and reason",
                    ["source", "reason"],
                    registry=registry,
                ),
            )
            cls._by_registry[registry] = found
        return found
