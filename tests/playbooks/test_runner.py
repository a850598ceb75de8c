"""The runner: steps overlap under a bound, time out, retry transient errors, report progress in order."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from bot.domain.models import Asset, AssetKind, EvidenceSource, EvidenceStatus
from playbooks.bindings import IncidentScope
from playbooks.errors import ParameterError
from playbooks.results import PlaybookRun, StepState
from playbooks.runner import RunContext, run_playbook
from tests.playbooks.conftest import free_port
from tests.playbooks.helpers import make_playbook
from tests.playbooks.servers import LocalServer, Reply, Sequence

VECTOR = {
    "status": "success",
    "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, "1"]}]},
}


def prom_step(step_id: str, base: str, **extra: Any) -> dict[str, Any]:
    """A prometheus_query step against the local server; its answers are set per test."""
    return {"id": step_id, "kind": "prometheus_query", "item": "serving_health", "url": base, "query": "up",
            "op": ">", "threshold": 5, **extra}  # fmt: skip


def health_step(step_id: str, url: str) -> dict[str, Any]:
    return {
        "id": step_id,
        "kind": "http_health",
        "item": "serving_health",
        "url": url,
        "latency_budget": "5s",
    }


def overlap(run: PlaybookRun) -> int:
    """The most steps that were running at one instant, from their recorded start and finish times."""
    events = sorted(
        [(s.started_at, 1) for s in run.steps if s.started_at]
        + [(s.finished_at, -1) for s in run.steps if s.finished_at],
        key=lambda e: (e[0], e[1]),
    )
    peak = current = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


class TestConcurrency:
    async def test_eight_slow_steps_overlap(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """Eight independent steps that each wait 1 s on their source all run at once."""
        http_server.route("GET", "/slow/*", Reply(200, {}, delay=1.0))
        playbook = make_playbook(
            *(health_step(f"s{i}", f"{http_server.url}/slow/{i}") for i in range(8)), side="mlops"
        )
        run = await run_playbook(playbook, {}, make_ctx(concurrency=8))
        assert [s.state for s in run.steps] == [StepState.OK] * 8
        assert http_server.max_in_flight == 8
        assert overlap(run) == 8

    async def test_concurrency_bound(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """With concurrency 2, never more than two requests reach the source at once."""
        http_server.route("GET", "/slow/*", Reply(200, {}, delay=0.2))
        playbook = make_playbook(
            *(health_step(f"s{i}", f"{http_server.url}/slow/{i}") for i in range(6)), side="mlops"
        )
        run = await run_playbook(playbook, {}, make_ctx(concurrency=2))
        assert all(s.state is StepState.OK for s in run.steps)
        assert http_server.max_in_flight == 2
        assert overlap(run) == 2


class TestFailures:
    async def test_timeout_is_unknown_with_error(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A source slower than the step's timeout: failed, unknown, the timeout in error and detail."""
        http_server.route("GET", "/api/v1/query", Reply(200, VECTOR, delay=2))
        playbook = make_playbook(prom_step("slow", http_server.url, timeout=0.3, retries=0), side="mlops")
        run = await run_playbook(playbook, {}, make_ctx())
        step = run.steps[0]
        assert step.state is StepState.FAILED
        assert step.status is EvidenceStatus.UNKNOWN
        assert step.error == "timed out after 300 ms"
        assert step.detail == "could not check: timed out after 300 ms"

    async def test_transient_errors_retried_then_success(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """Two 503s then an answer: the step succeeds on its third attempt."""
        answers = Sequence(Reply(503, "busy"), Reply(503, "busy"), Reply(200, VECTOR))
        http_server.route("GET", "/api/v1/query", answers)
        run = await run_playbook(
            make_playbook(prom_step("flaky", http_server.url, retries=2), side="mlops"),
            {},
            make_ctx(backoff=0.01),
        )
        assert run.steps[0].state is StepState.OK, run.steps[0].error
        assert run.steps[0].attempts == 3
        assert answers.calls == 3

    async def test_retries_exhausted_is_unknown(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """503 on every attempt: failed after retries+1 attempts, never ok."""
        http_server.route("GET", "/api/v1/query", Reply(503, "busy"))
        run = await run_playbook(
            make_playbook(prom_step("down", http_server.url, retries=1), side="mlops"),
            {},
            make_ctx(backoff=0.01),
        )
        step = run.steps[0]
        assert (step.state, step.status, step.attempts) == (StepState.FAILED, EvidenceStatus.UNKNOWN, 2)
        assert step.error == "GET /api/v1/query answered 503: busy after 2 attempts"

    async def test_connection_refused_retried_then_unknown(self, make_ctx: Callable[..., RunContext]) -> None:
        """Nothing listening is transient: retried, then failed with the connection error."""
        url = f"http://127.0.0.1:{free_port()}"
        run = await run_playbook(
            make_playbook(prom_step("gone", url, retries=1), side="mlops"), {}, make_ctx(backoff=0.01)
        )
        assert run.steps[0].state is StepState.FAILED
        assert run.steps[0].attempts == 2
        assert "ConnectError" in (run.steps[0].error or "")

    async def test_client_error_not_retried(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A 403 will not pass on a retry: one attempt."""
        http_server.route("GET", "/api/v1/query", Reply(403, "forbidden"))
        run = await run_playbook(
            make_playbook(prom_step("denied", http_server.url, retries=3), side="mlops"),
            {},
            make_ctx(backoff=0.01),
        )
        assert run.steps[0].attempts == 1
        assert run.steps[0].state is StepState.FAILED

    async def test_one_failure_does_not_stop_the_others(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A failing step sits beside an ok one; the run finishes with both."""
        http_server.route("GET", "/ok", Reply(200, {}))
        playbook = make_playbook(
            health_step("good", f"{http_server.url}/ok"),
            prom_step("bad", f"http://127.0.0.1:{free_port()}", retries=0),
            side="mlops",
        )
        run = await run_playbook(playbook, {}, make_ctx())
        assert [s.state for s in run.steps] == [StepState.OK, StepState.FAILED]
        assert run.done
        assert run.finished_at is not None

    async def test_unresolved_parameter_fails_the_step(self, make_ctx: Callable[..., RunContext]) -> None:
        """`{asset.model}` on an incident without a model: the step fails without an attempt, saying why."""
        playbook = make_playbook(
            {
                "id": "h",
                "kind": "http_health",
                "item": "serving_health",
                "preset": "kserve_v2",
                "url": "http://127.0.0.1:1",
                "model": "{asset.model}",
            },
            side="mlops",
        )
        run = await run_playbook(
            playbook, {}, make_ctx(), scope=IncidentScope(assets=(Asset(kind=AssetKind.TABLE, name="t"),))
        )
        assert run.steps[0].state is StepState.FAILED
        assert run.steps[0].attempts == 0
        assert run.steps[0].error == "the incident has no model asset"

    async def test_unknown_override_refused_before_running(self, make_ctx: Callable[..., RunContext]) -> None:
        """A parameter the playbook does not declare is the caller's mistake: ParameterError, nothing runs."""
        playbook = make_playbook(health_step("h", "http://127.0.0.1:1"), side="mlops", params={"model": "m"})
        with pytest.raises(ParameterError, match="has no parameter modle"):
            await run_playbook(playbook, {"modle": "x"}, make_ctx())


class TestProgress:
    async def test_callback_sees_each_start_and_finish_in_order(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """Two calls per step, running before finished; the last call shows the whole run done."""
        http_server.route("GET", "/a", Reply(200, {}, delay=0.1))
        http_server.route("GET", "/b", Reply(200, {}, delay=0.3))
        playbook = make_playbook(
            health_step("a", f"{http_server.url}/a"), health_step("b", f"{http_server.url}/b"), side="mlops"
        )
        seen: list[PlaybookRun] = []

        async def on_progress(run: PlaybookRun) -> None:
            seen.append(run)

        final = await run_playbook(playbook, {}, make_ctx(), on_progress)
        assert len(seen) == 4
        states = [{s.id: s.state for s in run.steps} for run in seen]
        assert states[0]["a"] is StepState.RUNNING or states[0]["b"] is StepState.RUNNING
        assert states[1] == {"a": StepState.RUNNING, "b": StepState.RUNNING}
        assert states[2] == {"a": StepState.OK, "b": StepState.RUNNING}
        assert states[3] == {"a": StepState.OK, "b": StepState.OK}
        assert seen[-1].finished_at is not None
        assert seen[-1] == final
        assert all(run.finished_at is None for run in seen[:-1])

    async def test_failing_callback_does_not_stop_the_run(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """A callback that raises (Slack down) is logged; the run completes."""
        http_server.route("GET", "/a", Reply(200, {}))

        async def broken(run: PlaybookRun) -> None:
            raise RuntimeError("slack is down")

        with structlog.testing.capture_logs() as logs:
            run = await run_playbook(
                make_playbook(health_step("a", f"{http_server.url}/a"), side="mlops"), {}, make_ctx(), broken
            )
        assert run.steps[0].state is StepState.OK
        assert any(e["event"] == "playbook.progress.failed" for e in logs)


class TestRunRecord:
    async def test_item_findings_merge_steps_of_one_item(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext]
    ) -> None:
        """Two steps filling serving_health, one ok and one anomalous: the item is anomalous, both named."""
        http_server.route("GET", "/ok", Reply(200, {}))
        http_server.route("GET", "/down", Reply(503, {}))
        playbook = make_playbook(
            health_step("up", f"{http_server.url}/ok"),
            health_step("dn", f"{http_server.url}/down"),
            side="mlops",
        )
        run = await run_playbook(
            playbook, {}, make_ctx(), scope=IncidentScope(incident_id="INC-7"), run_id="r1"
        )
        [finding] = run.item_findings()
        assert finding.item_ref == "mlops.serving_health"
        assert finding.status is EvidenceStatus.ANOMALOUS
        assert finding.detail.startswith("dn: /down failing: /down answered 503")
        assert finding.steps == ["up", "dn"]
        assert finding.step == "dn"
        assert run.incident_id == "INC-7"
        assert run.run_id == "r1"
        assert run.evidence_source("dn") == EvidenceSource(
            kind="playbook", playbook="test-pb", run_id="r1", step="dn"
        )
        assert PlaybookRun.model_validate_json(run.model_dump_json()) == run


class TestSecrets:
    SECRET = "tok-Zx9-very-secret"
    DB_PASSWORD = "pw-Qq7-hidden"

    async def test_secret_never_leaves_a_step(
        self, http_server: LocalServer, make_ctx: Callable[..., RunContext], caplog: pytest.LogCaptureFixture
    ) -> None:
        """A token echoed back by a source and a DB URL password appear in no detail, error, run or log."""
        # A badly behaved source that puts the credential it got into its error answer.
        http_server.route(
            "POST",
            "/api/v2/dags/~/dagRuns/list",
            lambda req: Reply(403, f"token {req.headers.get('authorization')} is not allowed"),
        )
        http_server.route("GET", "/v2/models/churn/ready", Reply(200, {}))
        playbook = make_playbook(
            {
                "id": "af",
                "kind": "airflow_failed_runs",
                "item": "failed_jobs",
                "url": http_server.url,
                "token": "{token}",
                "retries": 0,
            },
            {
                "id": "db",
                "kind": "sql_freshness",
                "item": "table_freshness",
                "max_age": "1h",
                "retries": 1,
                "url": f"postgresql+psycopg://postgres:{self.DB_PASSWORD}@127.0.0.1:{free_port()}/test",
                "table": "t",
            },
            {
                "id": "dbenv",
                "kind": "sql_freshness",
                "item": "table_freshness",
                "max_age": "1h",
                "retries": 0,
                "url": "${WAREHOUSE_URL}",
                "table": "t",
            },
            params={"token": "${AIRFLOW_TOKEN}"},
        )
        env = {
            "AIRFLOW_TOKEN": self.SECRET,
            "WAREHOUSE_URL": f"postgresql+psycopg://u:{self.SECRET}x@127.0.0.1:1/db",
        }
        caplog.set_level(logging.DEBUG)
        with structlog.testing.capture_logs() as logs:
            run = await run_playbook(playbook, {}, make_ctx(env=env, backoff=0.01))
        assert http_server.requests[0].headers["authorization"] == f"Bearer {self.SECRET}"  # it was used
        assert all(s.state is StepState.FAILED for s in run.steps)
        assert "***" in (run.step("af").error or "")
        assert run.params == {"token": "**********"}
        texts = [run.model_dump_json(), repr(run), str(logs), caplog.text]
        for text in texts:
            assert self.SECRET not in text
            assert self.DB_PASSWORD not in text
