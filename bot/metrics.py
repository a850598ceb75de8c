"""Prometheus metrics of the bot, on one registry served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.incidents_opened = Counter(
            "handoff_incidents_opened_total", "Incidents opened", ["origin"], registry=self.registry
        )
        self.decisions = Counter(
            "handoff_decisions_total", "Ownership decisions posted", ["owner"], registry=self.registry
        )
        self.slack_requests = Histogram(
            "handoff_slack_request_seconds", "Time to answer a Slack request", registry=self.registry
        )
