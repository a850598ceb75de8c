"""Step kind -> executor, from one explicit list: no registration at import time, unknown kinds fail fast."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from playbooks.context import StepContext
from playbooks.errors import UnknownStepKind
from playbooks.results import Finding
from playbooks.schema import (
    AirflowFailedRunsStep,
    DbtArtifactsStep,
    DriftStep,
    HttpHealthStep,
    MlflowModelVersionStep,
    Playbook,
    PrometheusQueryStep,
    SqlFreshnessStep,
    SqlSchemaStep,
    SqlVolumeStep,
    StepBase,
    kind_of,
)
from playbooks.steps import (
    airflow_failed_runs,
    dbt_artifacts,
    drift,
    http_health,
    mlflow_model_version,
    prometheus_query,
    sql_freshness,
    sql_schema,
    sql_volume,
)

S = TypeVar("S", bound=StepBase)


@dataclass(frozen=True)
class StepKind(Generic[S]):
    """A step kind: the model its YAML validates as, and the coroutine that gathers its evidence."""

    model: type[S]
    execute: Callable[[S, StepContext], Awaitable[Finding]]

    @property
    def kind(self) -> str:
        return kind_of(self.model)


BUILTIN_STEP_KINDS: tuple[StepKind[Any], ...] = (
    StepKind(SqlFreshnessStep, sql_freshness.execute),
    StepKind(SqlVolumeStep, sql_volume.execute),
    StepKind(SqlSchemaStep, sql_schema.execute),
    StepKind(HttpHealthStep, http_health.execute),
    StepKind(MlflowModelVersionStep, mlflow_model_version.execute),
    StepKind(DriftStep, drift.execute),
    StepKind(PrometheusQueryStep, prometheus_query.execute),
    StepKind(AirflowFailedRunsStep, airflow_failed_runs.execute),
    StepKind(DbtArtifactsStep, dbt_artifacts.execute),
)


class Registry:
    """The executors a runner may call, by step kind."""

    def __init__(self, kinds: Iterable[StepKind[Any]]) -> None:
        self._kinds: dict[str, StepKind[Any]] = {}
        for entry in kinds:
            if entry.kind in self._kinds:
                raise ValueError(f"step kind {entry.kind} registered twice")
            self._kinds[entry.kind] = entry

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def executor(self, kind: str) -> Callable[[Any, StepContext], Awaitable[Finding]]:
        entry = self._kinds.get(kind)
        if entry is None:
            raise UnknownStepKind(f"no executor for step kind {kind!r}; known: {', '.join(self._kinds)}")
        return entry.execute

    def check(self, playbook: Playbook) -> None:
        """Raise UnknownStepKind before anything runs if any step of the playbook has no executor."""
        for step in playbook.steps:
            self.executor(step.kind)


def default_registry() -> Registry:
    return Registry(BUILTIN_STEP_KINDS)
