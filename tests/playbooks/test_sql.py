"""The SQL layer: read-only sessions, statement timeouts, and names that cannot carry SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from playbooks import sql
from playbooks.errors import StepError, TransientStepError
from playbooks.results import StepState
from playbooks.runner import RunContext
from tests.playbooks.helpers import NOW, Warehouse, create_orders, run_step


class TestReadOnlySession:
    async def test_writes_are_refused(self, warehouse: Warehouse) -> None:
        """The session a step gets cannot write: CREATE TABLE fails and the table does not appear."""
        create_orders(warehouse, [])
        target = warehouse.table("intruder")
        with pytest.raises(StepError, match="read-only"):
            await sql.read_only(
                SecretStr(warehouse.url), lambda c: c.execute(sa.text(f"CREATE TABLE {target} (a int)")), 5
            )
        with warehouse.engine.connect() as conn:
            assert (
                not sa.inspect(conn).has_table("intruder", schema=warehouse.schema)
                if warehouse.schema
                else True
            )

    async def test_statement_timeout(self, warehouse: Warehouse) -> None:
        """A statement longer than the timeout is cut by the database (PostgreSQL) or interrupted (DuckDB)."""
        slow = (
            "SELECT pg_sleep(5)"
            if warehouse.kind == "postgresql"
            else "SELECT count(*) FROM range(100000000000)"
        )
        create_orders(warehouse, [])
        with pytest.raises(TransientStepError):
            await sql.read_only(SecretStr(warehouse.url), lambda c: c.execute(sa.text(slow)).all(), 0.3)

    async def test_table_parameter_cannot_carry_sql(
        self, warehouse: Warehouse, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A table name from a parameter is checked before any SQL: an injection attempt fails the step."""
        table = create_orders(warehouse, [timedelta(hours=1)])
        step = {"id": "fresh", "kind": "sql_freshness", "item": "table_freshness", "url": warehouse.url,
                "table": "{table}", "max_age": "6h"}  # fmt: skip
        result = await run_step(step, make_ctx(now=NOW), params={"table": table},
                                overrides={"table": f"{table}; DROP TABLE {table}"})  # fmt: skip
        assert result.state is StepState.FAILED
        assert result.attempts == 0
        assert "not a valid SQL name" in (result.error or "")
        with warehouse.engine.connect() as conn:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 1
