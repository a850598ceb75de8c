"""Step kind -> executor, from one explicit list: no registration at import time, unknown kinds fail fast.

The built-in executors are imported when a step of their kind first runs, not with the registry: their
libraries (SQLAlchemy, NumPy, SciPy, the warehouse drivers) stay out of a process that never runs that kind,
such as the Slack-facing `handoff serve` when playbooks run on workers (docs/operations.md).
"""

from __future__ import annotations

import asyncio
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


class LazyExecute:
    """The `execute` coroutine of `playbooks.steps.<module>`, imported when first needed.

    `load` imports it in a worker thread, so that importing SciPy (half a second) does not stall the event loop
    while other steps are timing a server's answer; the runner loads a playbook's kinds before its steps start.
    """

    def __init__(self, module: str) -> None:
        self.module = f"playbooks.steps.{module}"
        self.__name__ = self.__qualname__ = f"{module}.execute"
        self._loaded: Execute | None = None

    async def load(self) -> Execute:
        if self._loaded is None:
            module = await asyncio.to_thread(importlib.import_module, self.module)
            self._loaded = module.execute
        return self._loaded

    async def __call__(self, step: Any, ctx: StepContext) -> Finding:
        return await (await self.load())(step, ctx)


def lazy(module: str) -> LazyExecute:
    return LazyExecute(module)


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

    async def load(self, playbook: Playbook) -> None:
        """Import, off the event loop, the executors the playbook's steps need (see LazyExecute)."""
        for step in playbook.steps:
            execute = self.executor(step.kind)
            if isinstance(execute, LazyExecute):
                await execute.load()

    async def load_all(self) -> None:
        """Import every executor now (a process that will run every kind anyway, like the demo)."""
        for entry in self._kinds.values():
            if isinstance(entry.execute, LazyExecute):
                await entry.execute.load()

    def check(self, playbook: Playbook) -> None:
        """Raise UnknownStepKind before anything runs if any step of the playbook has no executor."""
        for step in playbook.steps:
            self.executor(step.kind)


def default_registry() -> Registry:
    return Registry(BUILTIN_STEP_KINDS)
