"""Issue 14, where secrets go: one regression test per finding about playbooks (each failed before the fix).

- Airflow basic auth echoed by a server reached the run record and the logs, base64-encoded.
- A 5xx body was cut to 200 characters before redaction, so the start of a token survived.
- An `http_health` URL taken from an alert label sent the configured bearer token to the label's host.
- A step whose table and column came from labels put a raw cell value into its error (`'sk_live_...' is not
  a timestamp`), and labels could name any table or column.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import sqlalchemy as sa
import structlog
from pydantic import ValidationError

import bot.logging as bot_logging
from playbooks.bindings import Bindings, IncidentScope
from playbooks.errors import StepError
from playbooks.redaction import Redactor
from playbooks.results import PlaybookRun, StepState
from playbooks.runner import RunContext, run_playbook
from playbooks.schema import HttpHealthStep, Playbook, SqlFreshnessStep
from playbooks.snapshots import InMemorySnapshotStore
from tests.playbooks.servers import LocalServer, Reply, Request

NOW = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
USER = "airflow-canary-user"
PASSWORD = "pw canary/+=&9f2e"  # a space, a slash, a plus: every encoding differs from the raw text
TOKEN = "tok_canary_7d41be0c9a11f3e2b6a8c0d4"
CELL = "sk_live_canary_51Hc0ffee0ddba11"


def forms(secret: str) -> list[str]:
    """The raw, base64 and URL-encoded forms of a secret that must never show."""
    raw = secret.encode()
    return [
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        quote(secret, safe=""),
        quote_plus(secret),
    ]


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def leaks(text: str, *secrets: str) -> list[str]:
    found = [f for s in secrets for f in forms(s) if f in text]
    found += [basic(USER, PASSWORD)] if basic(USER, PASSWORD) in text else []
    return found


def echo(request: Request) -> dict[str, Any]:
    """Everything the server received: what a misbehaving or hostile server may send back."""
    return {"method": request.method, "path": request.path, "headers": request.headers,
            "body": request.body.decode(errors="replace")}  # fmt: skip


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer().start()
    yield local
    local.stop()


@pytest.fixture
async def ctx() -> AsyncIterator[RunContext]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield RunContext(http=client, snapshots=InMemorySnapshotStore(), clock=lambda: NOW, backoff=0.01)


def with_env(ctx: RunContext, **env: str) -> RunContext:
    return RunContext(http=ctx.http, snapshots=ctx.snapshots, clock=ctx.clock, env=env, backoff=0.01)


def make_playbook(*steps: dict[str, Any], side: str = "dataops", **fields: Any) -> Playbook:
    data = {"name": "secrets", "side": side, "description": "a test playbook", "steps": list(steps), **fields}
    return Playbook.model_validate(data)


async def run(
    ctx: RunContext, *steps: dict[str, Any], labels: dict[str, str] | None = None, **playbook: Any
) -> tuple[PlaybookRun, str]:
    """Run a playbook; return the run and every log event it wrote (structlog's events, as text)."""
    with structlog.testing.capture_logs() as logs:
        done = await run_playbook(
            make_playbook(*steps, **playbook), {}, ctx, scope=IncidentScope(labels=labels or {})
        )
    return done, json.dumps(logs, default=str)


class TestAirflowBasicAuthEchoed:
    async def test_echoed_credentials_reach_neither_record_nor_logs(
        self, server: LocalServer, ctx: RunContext
    ) -> None:
        """A server that puts the Authorization header it got into its DAG and task ids, and into a 503 body:
        no form of the user, the password or base64(user:password) is in the run record or the logs."""

        def runs(request: Request) -> Reply:
            header = request.headers.get("authorization", "")
            run = {"dag_id": f"dag {header}", "dag_run_id": f"run {header}", "state": "failed",
                   "end_date": "2026-11-28T15:51:46+00:00", "run_type": "manual"}  # fmt: skip
            return Reply(200, {"dag_runs": [run], "total_entries": 1})

        server.route("POST", "/api/v1/dags/~/dagRuns/list", runs)
        server.route("GET", "/api/v1/dags/*", lambda r: Reply(200, {"task_instances": [
            {"task_id": f"task {r.headers.get('authorization')}", "state": "failed"}]}))  # fmt: skip
        server.route("POST", "/down/api/v1/dags/~/dagRuns/list", lambda r: Reply(503, echo(r)))
        step = {"kind": "airflow_failed_runs", "item": "failed_jobs", "api": "v1", "retries": 0,
                "username": "${AF_USER}", "password": "${AF_PASSWORD}"}  # fmt: skip
        done, logs = await run(
            with_env(ctx, AF_USER=USER, AF_PASSWORD=PASSWORD),
            {**step, "id": "echoed", "url": server.url},
            {**step, "id": "down", "url": f"{server.url}/down"},
        )
        assert done.step("echoed").state is StepState.ANOMALOUS, done.step("echoed").error
        assert done.step("down").state is StepState.FAILED
        assert "answered 503" in (done.step("down").error or "")
        record = done.model_dump_json()
        assert leaks(record, USER, PASSWORD) == []
        assert leaks(logs, USER, PASSWORD) == []
        assert "Basic ***" in record  # masked, not dropped: the reader sees something was there


class TestBodyRedactedBeforeCut:
    async def test_token_at_the_cut_leaves_no_prefix(self, server: LocalServer, ctx: RunContext) -> None:
        """A 5xx body with the token where the old 200-character cut fell: not even its start shows."""
        server.route("GET", "/api/v1/query", Reply(503, "x" * 190 + TOKEN + " and more"))
        step = {"id": "q", "kind": "prometheus_query", "item": "serving_health", "url": server.url,
                "query": "up", "op": ">", "threshold": 0, "token": "${PROM_TOKEN}", "retries": 0}  # fmt: skip
        done, logs = await run(with_env(ctx, PROM_TOKEN=TOKEN), step, side="mlops")
        error = done.steps[0].error or ""
        assert error.startswith("GET /api/v1/query answered 503: xxx")
        assert TOKEN[:6] not in error
        assert TOKEN[:6] not in done.model_dump_json()
        assert TOKEN[:6] not in logs

    def test_excerpt_masks_a_secret_it_keeps(self) -> None:
        """Where the excerpt does reach the secret, the secret is masked whole, then the text is cut."""
        redactor = Redactor([TOKEN])
        assert redactor.excerpt("y" * 100 + TOKEN, limit=120) == "y" * 100 + "***"
        assert redactor.excerpt("z" * 16_380 + TOKEN) == "z" * 119 + "…"


class TestHostPinning:
    def health(self, **fields: Any) -> dict[str, Any]:
        return {"id": "health", "kind": "http_health", "item": "serving_health", "token": "${SERVING_TOKEN}",
                "retries": 0, **fields}  # fmt: skip

    async def test_label_url_without_base_url_is_refused(self, server: LocalServer, ctx: RunContext) -> None:
        """`url: "{labels.health_url}"` with a token: the request is never made, the label is named."""
        evil = LocalServer().start()
        try:
            evil.route("GET", "/*", lambda r: Reply(200, echo(r)))
            labels = {"health_url": f"{evil.url}/ready"}
            done, _ = await run(
                with_env(ctx, SERVING_TOKEN=TOKEN),
                self.health(url="{labels.health_url}"),
                labels=labels,
                side="mlops",
            )
            assert evil.requests == []
        finally:
            evil.stop()
        error = done.steps[0].error or ""
        assert error.startswith(
            f"refused: {{labels.health_url}} points at {evil.url.removeprefix('http://')}"
        )
        assert done.steps[0].attempts == 0

    async def test_label_url_must_have_the_base_url_host(self, server: LocalServer, ctx: RunContext) -> None:
        """With a base_url, a label URL on another host is refused before any request; on its host it runs."""
        server.route("GET", "/ready", Reply(200, {"ok": True}))
        evil = LocalServer().start()
        try:
            step = self.health(url="{labels.health_url}", base_url="${SERVING_URL}")
            env = with_env(ctx, SERVING_TOKEN=TOKEN, SERVING_URL=server.url)
            refused, _ = await run(env, step, labels={"health_url": f"{evil.url}/ready"}, side="mlops")
            allowed, _ = await run(env, step, labels={"health_url": f"{server.url}/ready"}, side="mlops")
            assert evil.requests == []
        finally:
            evil.stop()
        assert refused.steps[0].error == (
            f"refused: {{labels.health_url}} points at {evil.url.removeprefix('http://')}, "
            f"not the configured host {server.url.removeprefix('http://')}"
        )
        assert allowed.steps[0].state is StepState.OK, allowed.steps[0].error
        assert server.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"

    @pytest.mark.parametrize(
        "value",
        ["@evil.example/x", ".evil.example/x", ":1/x", "x.evil.example"],
        ids=["at", "dot", "port", "host"],
    )
    def test_a_label_in_the_host_part_is_refused(self, value: str) -> None:
        """A label glued to a configured host cannot move the request elsewhere."""
        playbook = make_playbook(
            self.health(url="http://kserve.internal{labels.x}", token="t0ken-value"), side="mlops"
        )
        with pytest.raises(StepError, match=r"^refused: \{labels\.x\}"):
            Bindings(playbook, {}, IncidentScope(labels={"x": value}), {}).render_step(playbook.steps[0])

    def test_label_in_the_path_is_percent_encoded(self) -> None:
        """After the host, a label's value is one encoded piece: no `../` or `?` of its own."""
        playbook = make_playbook(
            self.health(url="http://kserve.internal/v2/models/{labels.model}/ready", token="t0ken-value"),
            side="mlops",
        )
        scope = IncidentScope(labels={"model": "../admin?x=1"})
        rendered = Bindings(playbook, {}, scope, {}).render_step(playbook.steps[0])
        assert isinstance(rendered, HttpHealthStep)
        assert rendered.url == "http://kserve.internal/v2/models/..%2Fadmin%3Fx%3D1/ready"

    def test_allow_listed_url_without_credentials(self) -> None:
        """A label URL on allow.urls may be checked, but only without credentials (they need a base_url)."""
        step = {"id": "h", "kind": "http_health", "item": "serving_health", "url": "{labels.u}",
                "allow": {"urls": ["http://status.internal/health"]}}  # fmt: skip
        scope = IncidentScope(labels={"u": "http://status.internal/health/api"})
        playbook = make_playbook(step, side="mlops")
        assert Bindings(playbook, {}, scope, {}).render_step(playbook.steps[0])
        with_token = make_playbook({**step, "token": "t0ken-value"}, side="mlops")
        with pytest.raises(StepError, match="credentials go only to the configured host"):
            Bindings(with_token, {}, scope, {}).render_step(with_token.steps[0])
        for outside in ("http://status.internal/healthz", "http://status.internal/health/../admin"):
            with pytest.raises(StepError, match=r"not on allow\.urls"):
                Bindings(playbook, {}, IncidentScope(labels={"u": outside}), {}).render_step(
                    playbook.steps[0]
                )

    def test_base_url_from_the_alert_does_not_load(self) -> None:
        with pytest.raises(ValidationError, match="base_url names the configured host"):
            make_playbook(self.health(url="{labels.u}", base_url="{labels.b}"), side="mlops")


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """A DuckDB table `payments` whose text column `note` holds a secret-looking value."""
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE payments (id integer, note varchar, updated_at timestamp)"))
        conn.execute(sa.text("INSERT INTO payments VALUES (1, :cell, :at)"), {"cell": CELL, "at": NOW})
    engine.dispose()
    return url


class TestLabelChosenNames:
    def freshness(self, url: str, **fields: Any) -> dict[str, Any]:
        return {"id": "fresh", "kind": "sql_freshness", "item": "table_freshness", "url": url,
                "max_age": "1h", "retries": 0, **fields}  # fmt: skip

    async def test_cell_value_is_described_not_quoted(self, duckdb_url: str, ctx: RunContext) -> None:
        """max() of a text column: the error says what is wrong with the value, and never shows it."""
        done, logs = await run(ctx, self.freshness(duckdb_url, table="payments", column="note"))
        assert done.steps[0].error == "the value in column note is not a timestamp (text)"
        assert CELL not in done.model_dump_json()
        assert CELL not in logs

    async def test_database_error_does_not_quote_the_value(self, duckdb_url: str, ctx: RunContext) -> None:
        """A cast of a text column: DuckDB's conversion error quotes the cell; the step's error does not."""
        query = "SELECT CAST(note AS double) FROM payments"
        step = {"id": "drift", "kind": "drift", "item": "drift_signals", "url": duckdb_url, "retries": 0,
                "reference_query": query, "current_query": query}  # fmt: skip
        done, logs = await run(ctx, step, side="mlops")
        assert done.steps[0].state is StepState.FAILED
        assert "Could not convert string <value> to DOUBLE" in (done.steps[0].error or "")
        assert CELL not in done.model_dump_json()
        assert CELL not in logs

    async def test_labels_must_be_on_the_allow_list(self, duckdb_url: str, ctx: RunContext) -> None:
        """Labels choosing table and column: allowed names run, others are refused, naming the label only."""
        step = self.freshness(duckdb_url, table="{labels.table}", column="{labels.column}")
        allow = {"tables": ["payments", "orders_*"], "columns": ["updated_at"]}
        ok, _ = await run(ctx, step, labels={"table": "payments", "column": "updated_at"}, allow=allow)
        assert ok.steps[0].state is StepState.OK, ok.steps[0].error
        refused, _ = await run(ctx, step, labels={"table": "payments", "column": "note"}, allow=allow)
        assert refused.steps[0].error == "refused: the column {labels.column} names is not on allow.columns"
        secret_table, _ = await run(
            ctx, step, labels={"table": "users_secret", "column": "updated_at"}, allow=allow
        )
        assert secret_table.steps[0].error == "refused: the table {labels.table} names is not on allow.tables"
        assert "users_secret" not in secret_table.model_dump_json()

    @pytest.mark.parametrize("value", ["../../etc/x", "..%2F..%2Fetc%2Fx", "other"])
    def test_a_label_in_a_sql_url_must_be_listed(self, value: str) -> None:
        """A SQL URL's path names the database (a DuckDB file): a label there needs allow.urls, `..` never."""
        step = self.freshness("duckdb:///data/{labels.db}.duckdb", table="t")
        playbook = make_playbook(step, allow={"urls": ["duckdb:///data/sales.duckdb"]})
        with pytest.raises(StepError, match=r"^refused: \{labels\.db\} points at a local file"):
            Bindings(playbook, {}, IncidentScope(labels={"db": value}), {}).render_step(playbook.steps[0])
        listed = Bindings(playbook, {}, IncidentScope(labels={"db": "sales"}), {}).render_step(
            playbook.steps[0]
        )
        assert isinstance(listed, SqlFreshnessStep)
        assert listed.url.get_secret_value() == "duckdb:///data/sales.duckdb"

    def test_a_label_chosen_name_without_allow_list_does_not_load(self) -> None:
        with pytest.raises(ValidationError, match=r"\{labels.table\} chooses a table name"):
            make_playbook(self.freshness("duckdb:///w.db", table="{labels.table}"))


class TestSnapshotData:
    async def test_echoed_alias_names_are_stored_scrubbed(self, server: LocalServer, ctx: RunContext) -> None:
        """An MLflow stand-in that names an alias after the Authorization header: the snapshot has no token."""
        server.route("GET", "/api/2.0/mlflow/registered-models/get", lambda r: Reply(200, {"registered_model": {
            "aliases": [{"alias": r.headers.get("authorization"), "version": "1"}]}}))  # fmt: skip
        server.route("GET", "/api/2.0/mlflow/model-versions/search", Reply(200, {"model_versions": []}))
        step = {"id": "reg", "kind": "mlflow_model_version", "item": "model_version", "tracking_uri": server.url,
                "model": "churn", "token": "${MLFLOW_TOKEN}", "retries": 0}  # fmt: skip
        env = with_env(ctx, MLFLOW_TOKEN=TOKEN)
        first, _ = await run(env, step, side="mlops")
        second, logs = await run(env, step, side="mlops")
        assert second.steps[0].state is StepState.OK, second.steps[0].error  # scrubbed the same way each run
        assert isinstance(ctx.snapshots, InMemorySnapshotStore)
        stored = str(ctx.snapshots._values)
        assert "Bearer ***" in stored
        assert leaks(stored + first.model_dump_json() + second.model_dump_json() + logs, TOKEN) == []


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """bot.logging writing JSON into a buffer; logging, structlog and the hooks put back afterwards."""
    monkeypatch.setattr(bot_logging, "_SECRETS", set())
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, structlog.get_config())
    hooks = (sys.excepthook, threading.excepthook, sys.unraisablehook)
    stream = io.StringIO()
    try:
        bot_logging.configure("info", "json", stream=stream)
        yield stream
    finally:
        logging.captureWarnings(False)
        root.handlers[:], root.level = saved[0], saved[1]
        structlog.configure(**saved[2])
        sys.excepthook, threading.excepthook, sys.unraisablehook = hooks


class TestLogScrubber:
    def test_registered_secret_is_scrubbed_in_every_encoding(self, json_logs: io.StringIO) -> None:
        """A registered password, logged raw, percent-encoded, base64 alone and in `Basic user:password`."""
        bot_logging.register_secrets([PASSWORD, f"postgresql://app:{quote(TOKEN)}@db/x"])
        log = structlog.get_logger("tests.security")
        for form in forms(PASSWORD):
            log.info("echoed", value=form)
        logging.getLogger("httpx").warning("header %s", f"Basic {basic(USER, PASSWORD)}")
        log.info("nested", headers={"authorization": f"Basic {basic(USER, PASSWORD)}"})
        log.info("url", token_alone=TOKEN, b64=base64.b64encode(f"x:{TOKEN}".encode()).decode())
        text = json_logs.getvalue()
        assert leaks(text, PASSWORD, TOKEN) == []
        assert text.count("[redacted]") >= 9

    def test_many_secrets_one_pattern(self) -> None:
        """Fifty secrets in one pattern: each found in a long line, as written and percent-encoded in JSON."""
        redactor = Redactor([f"secret-{i:04d}-{'x' * 20}" for i in range(50)])
        line = "word " * 2000 + "secret-0042-" + "x" * 20
        assert redactor.scrub(line).endswith("***")
        assert redactor.scrub(line + json.dumps({"k": quote("secret-0007-" + "x" * 20)})).endswith('"***"}')
