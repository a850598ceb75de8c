"""`handoff playbooks validate` and `run`, driven through typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import redis
from typer.testing import CliRunner

from playbooks.cli import app

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}

PLAYBOOK = """\
name: orders-check
side: dataops
description: freshness and schema of a table
triggers:
  manual: true
params:
  db: null
  table: "{asset.table}"
steps:
  - {id: fresh, kind: sql_freshness, item: table_freshness, url: "{db}", table: "{table}", max_age: 1h,
     retries: 0}
  - {id: schema, kind: sql_schema, item: schema_changes, url: "{db}", table: "{table}", retries: 0}
"""


@pytest.fixture
def redis_db(redis_available: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_available)
    client.flushdb()
    yield redis_available
    client.flushdb()
    client.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, updated_at TIMESTAMP)")
        conn.execute(
            "INSERT INTO orders VALUES (1, ?)",
            [datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)],
        )
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "orders.yaml").write_text(PLAYBOOK)
    return tmp_path / "playbooks"


class TestValidate:
    def test_builtins(self) -> None:
        """No path: the built-ins are checked and listed."""
        result = runner.invoke(app, ["validate"], env=ENV)
        assert result.exit_code == 0, result.output
        assert "11 playbooks valid" in result.output
        assert "dataops-freshness" in result.output

    def test_good_folder(self, folder: Path) -> None:
        result = runner.invoke(app, ["validate", str(folder)], env=ENV)
        assert result.exit_code == 0, result.output
        assert "12 playbooks valid" in result.output
        assert "orders-check" in result.output

    def test_bad_file_exits_2_with_file_line_field(self, folder: Path) -> None:
        """Each problem is one `file:line: field: message` line on stderr; the exit code is 2."""
        bad = folder / "orders.yaml"
        bad.write_text(
            PLAYBOOK.replace("max_age: 1h", "max_age: 1h, colour: red").replace(
                "item: schema_changes", "item: drift_signals"
            )
        )
        result = runner.invoke(app, ["validate", str(bad), "--no-builtin"], env=ENV)
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"{bad}:10: steps.0.sql_freshness.colour: Extra inputs are not permitted",
        ]
        bad.write_text(PLAYBOOK.replace("item: schema_changes", "item: drift_signals"))
        result = runner.invoke(app, ["validate", str(bad), "--no-builtin"], env=ENV)
        assert result.exit_code == 2
        assert result.stderr.startswith(
            f"{bad}:12: steps.1.item: 'drift_signals' is not a dataops checklist item"
        )

    def test_missing_path(self, tmp_path: Path) -> None:
        result = runner.invoke(app, ["validate", str(tmp_path / "nope")], env=ENV)
        assert result.exit_code == 2
        assert "no such file or folder" in result.stderr


class TestRun:
    def test_run_prints_findings(self, folder: Path, warehouse: Path, redis_db: str) -> None:
        """A dry run against a real DuckDB file: both findings printed, exit 0 when all are ok."""
        args = [
            "run",
            "orders-check",
            "--dir",
            str(folder),
            "--param",
            f"db=duckdb:///{warehouse}",
            "--asset",
            "table:orders",
        ]
        result = runner.invoke(app, args, env={**ENV, "REDIS_URL": redis_db})
        assert result.exit_code == 0, result.output
        assert "dataops.table_freshness  fresh: orders is fresh" in result.output
        assert "dataops.schema_changes  schema: orders: 2 columns, baseline recorded" in result.output
        assert "2 ok" in result.output

    def test_stale_exits_1_and_json(self, folder: Path, warehouse: Path, redis_db: str) -> None:
        """A stale table exits 1; --json prints the run record."""
        with duckdb.connect(str(warehouse)) as conn:
            conn.execute("UPDATE orders SET updated_at = updated_at - INTERVAL 3 DAY")
        args = [
            "run",
            "orders-check",
            "--dir",
            str(folder),
            "-p",
            f"db=duckdb:///{warehouse}",
            "-p",
            "table=orders",
            "--json",
        ]
        result = runner.invoke(app, args, env={**ENV, "REDIS_URL": redis_db})
        assert result.exit_code == 1, result.output
        run = json.loads(result.stdout)
        assert run["playbook"] == "orders-check"
        assert run["steps"][0]["state"] == "anomalous"
        assert "stale" in run["steps"][0]["detail"]

    def test_unresolved_param_exits_3(self, folder: Path, redis_db: str) -> None:
        """Without the required --param db, the steps cannot run: exit 3 and the reason printed."""
        result = runner.invoke(
            app,
            ["run", "orders-check", "--dir", str(folder), "--asset", "table:orders"],
            env={**ENV, "REDIS_URL": redis_db},
        )
        assert result.exit_code == 3
        assert "parameter db has no default: pass --param db=VALUE" in result.output

    def test_unknown_playbook_and_bad_param(self, folder: Path) -> None:
        result = runner.invoke(app, ["run", "nope", "--dir", str(folder)], env=ENV)
        assert result.exit_code == 2
        assert "no playbook named 'nope'" in result.stderr
        result = runner.invoke(app, ["run", "orders-check", "--dir", str(folder), "--param", "db"], env=ENV)
        assert result.exit_code == 2
        assert "expected KEY=VALUE" in result.output
        result = runner.invoke(
            app, ["run", "orders-check", "--dir", str(folder), "--param", "dbx=1"], env=ENV
        )
        assert result.exit_code == 2
        assert "has no parameter dbx" in result.stderr
