"""Step sql_freshness on real PostgreSQL and DuckDB tables made stale."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.domain.models import Asset, AssetKind, EvidenceStatus
from playbooks.results import StepState
from playbooks.runner import RunContext
from tests.playbooks.helpers import NOW, Warehouse, create_orders, run_step


class TestSqlFreshness:
    def step(self, wh: Warehouse, table: str) -> dict[str, object]:
        return {"id": "fresh", "kind": "sql_freshness", "item": "table_freshness", "url": wh.url,
                "table": table, "max_age": "6h", "retries": 0}  # fmt: skip

    async def test_fresh_then_stale(self, warehouse: Warehouse, make_ctx: Callable[..., RunContext]) -> None:
        """A table updated an hour ago is ok; once its rows are three days old it is anomalous, naming it."""
        table = create_orders(warehouse, [timedelta(hours=30), timedelta(hours=1)])
        ok = await run_step(self.step(warehouse, table), make_ctx(now=NOW))
        assert ok.state is StepState.OK, ok.error
        assert ok.status is EvidenceStatus.OK
        assert "fresh" in ok.detail
        assert "1 h ago" in ok.detail
        assert ok.asset == Asset(kind=AssetKind.TABLE, name=table)
        assert ok.item_ref == "dataops.table_freshness"

        warehouse.execute(
            f"UPDATE {table} SET updated_at = :ts", {"ts": warehouse.ts(NOW - timedelta(days=3))}
        )
        stale = await run_step(self.step(warehouse, table), make_ctx(now=NOW))
        assert stale.state is StepState.ANOMALOUS
        assert stale.status is EvidenceStatus.ANOMALOUS
        assert "stale" in stale.detail
        assert "3 d ago" in stale.detail
        assert "SLA 6 h" in stale.detail
        assert stale.metrics["age_seconds"] == pytest.approx(3 * 86400)

    async def test_empty_table_is_anomalous(
        self, warehouse: Warehouse, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A table with no rows has no freshness: anomalous, saying so."""
        table = create_orders(warehouse, [])
        result = await run_step(self.step(warehouse, table), make_ctx(now=NOW))
        assert result.state is StepState.ANOMALOUS
        assert "no rows" in result.detail

    async def test_missing_table_fails_unknown(
        self, warehouse: Warehouse, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A table that does not exist is a failed step: unknown, with the database's error, never ok."""
        create_orders(warehouse, [])
        result = await run_step(self.step(warehouse, warehouse.table("nope")), make_ctx(now=NOW))
        assert result.state is StepState.FAILED
        assert result.status is EvidenceStatus.UNKNOWN
        assert result.error
        assert "nope" in result.error
