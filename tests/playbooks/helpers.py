"""Helpers of the playbook tests: one-step playbooks, a fixed clock, a warehouse to write test tables to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from playbooks.bindings import IncidentScope
from playbooks.results import StepResult
from playbooks.runner import RunContext, run_playbook
from playbooks.schema import Playbook

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def make_playbook(
    *steps: dict[str, Any], side: str = "dataops", params: dict[str, Any] | None = None, name: str = "test-pb"
) -> Playbook:
    return Playbook.model_validate(
        {
            "name": name,
            "side": side,
            "description": "a test playbook",
            "params": params or {},
            "steps": list(steps),
        }
    )


async def run_step(
    step: dict[str, Any],
    ctx: RunContext,
    *,
    side: str = "dataops",
    params: dict[str, Any] | None = None,
    overrides: dict[str, str] | None = None,
    scope: IncidentScope | None = None,
) -> StepResult:
    """Run a one-step playbook and return its step."""
    run = await run_playbook(make_playbook(step, side=side, params=params), overrides, ctx, scope=scope)
    return run.steps[0]


@dataclass
class Warehouse:
    """A database the test writes to, and the URL and table name a step reads with."""

    kind: str
    url: str
    schema: str | None

    def __post_init__(self) -> None:
        self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)

    def table(self, name: str) -> str:
        return f"{self.schema}.{name}" if self.schema else name

    @property
    def timestamp_type(self) -> str:
        # PostgreSQL with a zone, DuckDB without one: the steps must read both as UTC.
        return "timestamptz" if self.kind == "postgresql" else "TIMESTAMP"

    def ts(self, value: datetime) -> datetime:
        return value if self.kind == "postgresql" else value.astimezone(UTC).replace(tzinfo=None)

    def execute(self, statement: str, params: Any = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(statement), params)


def create_orders(wh: Warehouse, ages: list[timedelta]) -> str:
    """Table `orders(id, amount, updated_at)` with one row per age before NOW; returns its name for a step."""
    table = wh.table("orders")
    wh.execute(f"CREATE TABLE {table} (id integer, amount double precision, updated_at {wh.timestamp_type})")
    if ages:
        rows = [{"id": i, "ts": wh.ts(NOW - age)} for i, age in enumerate(ages)]
        wh.execute(f"INSERT INTO {table} (id, amount, updated_at) VALUES (:id, 1.0, :ts)", rows)
    return table
