"""Step airflow_failed_runs against Airflow's recorded answers, served on the v2 and v1 paths."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Asset, AssetKind
from playbooks.results import StepState
from playbooks.runner import RunContext
from tests.playbooks.helpers import run_step
from tests.playbooks.servers import LocalServer, Reply, Request

AFTER_FAILURE = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)  # the recorded run failed at 15:51 that day
RUN_ID = "manual__2026-11-28T15:51:46.814101+00:00"


def serve_airflow(server: LocalServer, evidence: Path, api: str, runs: dict[str, Any] | None = None) -> None:
    """Serve the recorded answers on /api/{api}, refusing requests without the expected token."""
    runs = runs or json.loads((evidence / "airflow_failed_runs.json").read_text())
    tis = json.loads((evidence / "airflow_failed_tis.json").read_text())

    def authorised(reply: Reply) -> Callable[[Request], Reply]:
        def answer(request: Request) -> Reply:
            if request.headers.get("authorization") != "Bearer s3cret-airflow":
                return Reply(401, {"detail": "Not authenticated"})
            return reply

        return answer

    server.route("POST", f"/api/{api}/dags/~/dagRuns/list", authorised(Reply(200, runs)))
    server.route(
        "GET", f"/api/{api}/dags/feature_backfill/dagRuns/{RUN_ID}/taskInstances", authorised(Reply(200, tis))
    )


def _step(url: str, api: str, report: str = "failed_jobs") -> dict[str, object]:
    item = "failed_jobs" if report == "failed_jobs" else "recent_backfills"
    return {"id": "airflow", "kind": "airflow_failed_runs", "item": item, "url": url, "api": api,
            "report": report, "token": "${AIRFLOW_TOKEN}", "window": "1d", "retries": 0}  # fmt: skip


ENV = {"AIRFLOW_TOKEN": "s3cret-airflow"}


class TestAirflowFailedRuns:
    @pytest.mark.parametrize("api", ["v2", "v1"])
    async def test_failed_run_in_window(
        self, api: str, http_server: LocalServer, evidence_dir: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """The recorded failed run and its failed task are reported, on Airflow 3 (v2) and 2 (v1) paths."""
        serve_airflow(http_server, evidence_dir, api)
        result = await run_step(_step(http_server.url, api), make_ctx(now=AFTER_FAILURE, env=ENV))
        assert result.state is StepState.ANOMALOUS, result.error
        assert "1 failed run in the last 24 h" in result.detail
        assert "feature_backfill (manual__2026-11-28T15:51:46) failed tasks: load_user_daily" in result.detail
        assert result.asset == Asset(kind=AssetKind.JOB, name="feature_backfill")
        listed = next(r for r in http_server.requests if r.method == "POST")
        assert listed.path == f"/api/{api}/dags/~/dagRuns/list"
        assert listed.json()["states"] == ["failed"]
        assert listed.json()["end_date_gte"] == "2026-11-27T16:00:00+00:00"
        tis = next(r for r in http_server.requests if r.method == "GET")
        assert tis.query == {"state": ["failed"]}

    async def test_failure_outside_window_is_ok(
        self, http_server: LocalServer, evidence_dir: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A week later the same failure is outside the 1-day window: ok."""
        serve_airflow(http_server, evidence_dir, "v2")
        later = datetime(2026, 12, 5, tzinfo=UTC)
        result = await run_step(_step(http_server.url, "v2"), make_ctx(now=later, env=ENV))
        assert result.state is StepState.OK
        assert result.detail == "no failed runs in the last 24 h (all DAGs)"

    async def test_backfills(
        self, http_server: LocalServer, evidence_dir: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A manual run is no backfill (ok); the same run typed backfill is reported for recent backfills."""
        serve_airflow(http_server, evidence_dir, "v2")
        ok = await run_step(_step(http_server.url, "v2", "backfills"), make_ctx(now=AFTER_FAILURE, env=ENV))
        assert ok.state is StepState.OK, ok.error
        assert "no backfill runs" in ok.detail

        runs = json.loads((evidence_dir / "airflow_failed_runs.json").read_text())
        runs["dag_runs"][0]["run_type"] = "backfill"
        serve_airflow(http_server, evidence_dir, "v2", runs)
        found = await run_step(
            _step(http_server.url, "v2", "backfills"), make_ctx(now=AFTER_FAILURE, env=ENV)
        )
        assert found.state is StepState.ANOMALOUS
        assert found.item_ref == "dataops.recent_backfills"
        assert "1 backfill run in the last 24 h: feature_backfill (failed, started 8 min ago)" in found.detail

    async def test_wrong_token_fails_without_retry(
        self, http_server: LocalServer, evidence_dir: Path, make_ctx: Callable[..., RunContext]
    ) -> None:
        """401 is not transient: one attempt, failed, unknown."""
        serve_airflow(http_server, evidence_dir, "v2")
        step = {**_step(http_server.url, "v2"), "retries": 2}
        result = await run_step(step, make_ctx(now=AFTER_FAILURE, env={"AIRFLOW_TOKEN": "wrong"}))
        assert result.state is StepState.FAILED
        assert result.attempts == 1
        assert "answered 401" in (result.error or "")
