"""Step sql_volume on real PostgreSQL and DuckDB tables that shrink."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.domain.models import EvidenceStatus
from playbooks.results import StepState
from playbooks.runner import RunContext
from tests.playbooks.helpers import NOW, Warehouse, create_orders, run_step


class TestSqlVolume:
    def step(self, wh: Warehouse, table: str) -> dict[str, object]:
        return {"id": "volume", "kind": "sql_volume", "item": "volume", "url": wh.url, "table": table,
                "window": "1h", "baseline_windows": 4, "tolerance": 0.3, "retries": 0}  # fmt: skip

    async def test_steady_then_shrunk(
        self, warehouse: Warehouse, make_ctx: Callable[..., RunContext]
    ) -> None:
        """50 rows an hour for 5 hours is ok; after the last hour is cut to 10 rows it is anomalous."""
        ages = [timedelta(hours=h, minutes=1 + m) for h in range(5) for m in range(50)]
        table = create_orders(warehouse, ages)
        ok = await run_step(self.step(warehouse, table), make_ctx(now=NOW))
        assert ok.state is StepState.OK, ok.error
        assert ok.metrics["rows"] == 50
        assert ok.metrics["baseline"] == 50
        assert "50 rows in the last 1 h vs a baseline of 50" in ok.detail

        warehouse.execute(f"DELETE FROM {table} WHERE updated_at >= :ts AND id % 5 <> 0",
                          {"ts": warehouse.ts(NOW - timedelta(hours=1))})  # fmt: skip
        shrunk = await run_step(self.step(warehouse, table), make_ctx(now=NOW))
        assert shrunk.state is StepState.ANOMALOUS
        assert shrunk.metrics["rows"] == 10
        assert "-80%" in shrunk.detail
        assert "band 35-65" in shrunk.detail

    async def test_no_baseline_is_inconclusive(
        self, warehouse: Warehouse, make_ctx: Callable[..., RunContext]
    ) -> None:
        """Rows only in the current window leave nothing to compare with: unknown, not ok."""
        table = create_orders(warehouse, [timedelta(minutes=5)])
        result = await run_step(self.step(warehouse, table), make_ctx(now=NOW))
        assert result.state is StepState.INCONCLUSIVE
        assert result.status is EvidenceStatus.UNKNOWN
        assert "no baseline" in result.detail
