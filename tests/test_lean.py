"""The Slack-facing process stays lean: the step libraries (NumPy, SciPy, SQLAlchemy, DuckDB) load only where a
step of their kind runs. Each check runs in a fresh interpreter, since the test process imports them itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.support.reference import ROOT


def _probe(mode: str, tmp_path: Path, redis_url: str, **env: str) -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, "-m", "tests.workers.lean_probe", mode],
        cwd=ROOT,
        env={**os.environ, "HANDOFF_TEST_REDIS_URL": redis_url, "LEAN_TMP": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


class TestLean:
    def test_serving_a_command_loads_no_step_library(self, tmp_path: Path, redis_url: str) -> None:
        """Built, started and answering `/incident help`, with playbooks inline: none of them is imported."""
        assert _probe("help", tmp_path, redis_url)["heavy"] == []

    def test_with_workers_the_slack_facing_process_never_loads_them(
        self, tmp_path: Path, redis_url: str
    ) -> None:
        """A whole run on a `handoff worker`: its SQL finding reaches the checklist, the bot imported nothing."""
        path = tmp_path / "warehouse.duckdb"
        with duckdb.connect(str(path)) as conn:
            conn.execute("CREATE TABLE orders (id INTEGER, updated_at TIMESTAMP)")
            conn.execute("INSERT INTO orders VALUES (1, now()::TIMESTAMP - INTERVAL 9 HOUR)")
        result = _probe("workers", tmp_path, redis_url, LEAN_WAREHOUSE_URL=f"duckdb:///{path}")
        assert result == {"heavy": [], "finding": "anomalous"}
