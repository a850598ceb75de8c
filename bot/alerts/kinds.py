"""The kinds of alert source the intake understands."""

from __future__ import annotations

from enum import StrEnum


class SourceKind(StrEnum):
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    GREAT_EXPECTATIONS = "great_expectations"
    SODA = "soda"
    GENERIC = "generic"
