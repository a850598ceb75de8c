"""Step sql_schema on real PostgreSQL and DuckDB tables that are altered, with snapshots in Redis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from playbooks.results import StepState
from playbooks.runner import RunContext
from tests.playbooks.helpers import NOW, Warehouse, create_orders, run_step


class TestSqlSchema:
    def step(self, wh: Warehouse, table: str) -> dict[str, object]:
        return {"id": "schema", "kind": "sql_schema", "item": "schema_changes", "url": wh.url, "table": table,
                "change_window": "1d", "retries": 0}  # fmt: skip

    async def test_baseline_unchanged_altered_then_settled(
        self, warehouse: Warehouse, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A baseline, then ok; an added, dropped and retyped column stay anomalous for a day, then ok."""
        table = create_orders(warehouse, [timedelta(hours=1)])
        first = await run_step(self.step(warehouse, table), make_ctx(now=NOW))
        assert first.state is StepState.OK, first.error
        assert "baseline recorded" in first.detail
        assert "3 columns" in first.detail
        again = await run_step(self.step(warehouse, table), make_ctx(now=NOW + timedelta(minutes=5)))
        assert again.state is StepState.OK
        assert "unchanged" in again.detail

        warehouse.execute(f"ALTER TABLE {table} ADD COLUMN note varchar")
        warehouse.execute(f"ALTER TABLE {table} DROP COLUMN amount")
        warehouse.execute(f"ALTER TABLE {table} ALTER COLUMN id TYPE bigint")
        changed = await run_step(self.step(warehouse, table), make_ctx(now=NOW + timedelta(hours=1)))
        assert changed.state is StepState.ANOMALOUS
        assert "column note added" in changed.detail
        assert "column amount dropped" in changed.detail
        assert "column id retyped" in changed.detail
        assert "bigint" in changed.detail.lower()

        later = await run_step(self.step(warehouse, table), make_ctx(now=NOW + timedelta(hours=5)))
        assert later.state is StepState.ANOMALOUS
        assert "first seen 4 h ago" in later.detail
        assert "column note added" in later.detail

        settled = await run_step(self.step(warehouse, table), make_ctx(now=NOW + timedelta(days=2)))
        assert settled.state is StepState.OK
        assert "unchanged" in settled.detail

    async def test_dropped_table_is_anomalous(
        self, warehouse: Warehouse, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A table that had a snapshot and is gone is anomalous, not a failure."""
        table = create_orders(warehouse, [])
        await run_step(self.step(warehouse, table), make_ctx(now=NOW))
        warehouse.execute(f"DROP TABLE {table}")
        gone = await run_step(self.step(warehouse, table), make_ctx(now=NOW))
        assert gone.state is StepState.ANOMALOUS
        assert "no longer exists" in gone.detail
