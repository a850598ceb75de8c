"""Step kind -> executor, from one explicit list: no registration at import time, unknown kinds fail fast.

The built-in executors are imported when a step of their kind first runs, not with the registry: their
libraries (SQLAlchemy, NumPy, SciPy, the warehouse drivers) stay out of a process that never runs that kind,
such as the Slack-facing `handoff serve` when playbooks run on workers (docs/operations.md).
"""

from __future__ import annotations

import importlib
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

S = TypeVar("S", bound=StepBase)
Execute = Callable[[Any, StepContext], Awaitable[Finding]]


def lazy(module: str) -> Execute:
    """The `execute` coroutine of `playbooks.steps.<module>`, imported on its first call."""
    loaded: list[Execute] = []

    async def execute(step: Any, ctx: StepContext) -> Finding:
        if not loaded:
            loaded.append(importlib.import_module(f"playbooks.steps.{module}").execute)
        return await loaded[0](step, ctx)

    execute.__qualname__ = execute.__name__ = f"{module}.execute"
    return execute


@dataclass(frozen=True)
class StepKind(Generic[S]):
    """A step kind: the model its YAML validates as, and the coroutine that gathers its evidence."""

    model: type[S]
    execute: Callable[[S, StepContext], Awaitable[Finding]]

    @property
    def kind(self) -> str:
        return kind_of(self.model)


BUILTIN_STEP_KINDS: tuple[StepKind[Any], ...] = (
    StepKind(SqlFreshnessStep, lazy("sql_freshness")),
    StepKind(SqlVolumeStep, lazy("sql_volume")),
    StepKind(SqlSchemaStep, lazy("sql_schema")),
    StepKind(HttpHealthStep, lazy("http_health")),
    StepKind(MlflowModelVersionStep, lazy("mlflow_model_version")),
    StepKind(DriftStep, lazy("drift")),
    StepKind(PrometheusQueryStep, lazy("prometheus_query")),
    StepKind(AirflowFailedRunsStep, lazy("airflow_failed_runs")),
    StepKind(DbtArtifactsStep, lazy("dbt_artifacts")),
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
