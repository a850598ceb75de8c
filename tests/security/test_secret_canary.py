"""Issue 14: a canary for every secret, through the whole bot, and none of them anywhere it should not be.

Distinct canary values stand for the Slack bot token, the signing secret, the alert sources' secrets and every
playbook credential (bearer tokens, an API-key header, Airflow's basic-auth user and password, the warehouse
password inside its SQLAlchemy URL). An alert opens an incident; playbooks with every step kind run against
local servers that echo what they receive (headers and body) in their 200 and 5xx answers, and against
PostgreSQL; a person runs one again by hand. Then no canary, raw, base64 or URL-encoded, may be in any log
line (JSON, debug level, libraries included), `/metrics`, anything the Slack stand-in received, any Redis key
or value, or the stored run records.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import secrets
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
import structlog
import yaml
from sqlalchemy.engine import make_url

import bot.logging as bot_logging
from bot.alerts.auth import sign
from bot.settings import Settings
from bot.store import keys
from playbooks.results import PlaybookRun, StepState
from playbooks.schema import STEP_KINDS
from slack_sandbox import SlackSandbox
from tests.playbooks.servers import LocalServer, Reply, Request
from tests.support.alerts import service
from tests.support.bot import BotUnderTest, eventually, flush, make_team, manifest_scopes, team_config

CANARY_DB = 14  # a database of the test Redis of its own: the dump below reads all of it
_TAG = secrets.token_hex(4)
CANARIES = {
    "slack_bot_token": f"xoxb-canary-bot-{_TAG}-7f3a",
    "signing_secret": f"canary-signing-{_TAG}-91c2",
    "alert_bearer": f"canary-alert-bearer-{_TAG}",
    "alert_hmac": f"canary-alert-hmac-{_TAG}",
    "airflow_user": f"canary-af-user-{_TAG}",
    "airflow_password": f"canary af/pass+={_TAG}",
    "health_token": f"canary-health/tok+{_TAG}",
    "health_key": f"canary-health-key={_TAG}",
    "mlflow_token": f"canary-mlflow-{_TAG}/x",
    "prom_token": f"canary-prom-{_TAG}+y",
    "dbt_token": f"canary-dbt-{_TAG}=z",
    "db_password": f"canary db/pw@{_TAG}",
}
ENV = {
    "CANARY_AF_USER": CANARIES["airflow_user"],
    "CANARY_AF_PASSWORD": CANARIES["airflow_password"],
    "CANARY_HEALTH_TOKEN": CANARIES["health_token"],
    "CANARY_HEALTH_KEY": CANARIES["health_key"],
    "CANARY_MLFLOW_TOKEN": CANARIES["mlflow_token"],
    "CANARY_PROM_TOKEN": CANARIES["prom_token"],
    "CANARY_DBT_TOKEN": CANARIES["dbt_token"],
}


def forms(secret: str) -> set[str]:
    """How a secret may show: as written, base64 (standard and URL-safe, padded or not), URL-encoded."""
    raw = secret.encode()
    b64 = base64.b64encode(raw).decode()
    return {
        secret,
        b64,
        b64.rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
    }


def every_form() -> dict[str, str]:
    found = {form: name for name, secret in CANARIES.items() for form in forms(secret)}
    pair = f"{CANARIES['airflow_user']}:{CANARIES['airflow_password']}"
    found |= {form: "airflow basic auth" for form in forms(pair)}
    return found


def assert_no_canary(where: str, text: str) -> None:
    shown = sorted({name for form, name in every_form().items() if form in text})
    assert not shown, f"{where} shows {', '.join(shown)}"


# --- Echoing servers ------------------------------------------------------------------------------------


def echoed(request: Request) -> str:
    return json.dumps({"headers": request.headers, "query": request.query, "body": request.body.decode()})


def auth(request: Request) -> str:
    return request.headers.get("authorization", "") + " " + request.headers.get("x-api-key", "")


def failed_run(request: Request) -> dict[str, Any]:
    return {"dag_id": f"etl {auth(request)}", "dag_run_id": f"run {auth(request)}", "state": "failed",
            "end_date": datetime.now(UTC).isoformat(), "run_type": "manual"}  # fmt: skip


def serve_everything(server: LocalServer) -> None:
    """Valid answers of each API with what was received put where a step shows it; 5xx answers echo it all."""
    server.route("POST", "/airflow/api/v1/dags/~/dagRuns/list",
                 lambda r: Reply(200, {"dag_runs": [failed_run(r)], "total_entries": 1}))  # fmt: skip
    server.route("GET", "/airflow/api/v1/dags/*",
                 lambda r: Reply(200, {"task_instances": [{"task_id": auth(r), "state": "failed"}]}))  # fmt: skip
    server.route("POST", "/airflow-down/*", lambda r: Reply(503, echoed(r)))
    server.route("GET", "/health", lambda r: Reply(503, echoed(r)))
    server.route("GET", "/mlflow/api/2.0/mlflow/registered-models/get", lambda r: Reply(200, {
        "registered_model": {"aliases": [{"alias": auth(r), "version": "3"}]}}))  # fmt: skip
    server.route("GET", "/mlflow/api/2.0/mlflow/model-versions/search", lambda r: Reply(200, {
        "model_versions": [{"version": auth(r), "creation_timestamp": int(datetime.now(UTC).timestamp() * 1000)}]}))  # fmt: skip
    server.route("GET", "/prom/api/v1/query", lambda r: Reply(200, {"status": "success", "data": {
        "resultType": "vector", "result": [{"metric": {"__name__": "up", "seen": auth(r)}, "value": [0, "1"]}]}}))  # fmt: skip
    server.route("GET", "/prom-down/api/v1/query", lambda r: Reply(500, echoed(r)))
    server.route("GET", "/dbt/run_results.json", lambda r: Reply(200, {"results": [
        {"unique_id": f"model.pkg.{auth(r)}", "status": "error"}]}))  # fmt: skip
    server.route("GET", "/dbt/manifest.json", lambda r: Reply(200, {"parent_map": {}}))
    server.route("GET", "/dbt-down/*", lambda r: Reply(502, echoed(r)))


# --- The playbooks: every step kind ---------------------------------------------------------------------


def playbooks(base: str) -> list[dict[str, Any]]:
    sql = {"url": "${CANARY_WAREHOUSE_URL}", "table": "{labels.table}", "retries": 0}
    allow = {"tables": ["canary_*.orders"], "columns": ["updated_at"]}
    basic = {"username": "${CANARY_AF_USER}", "password": "${CANARY_AF_PASSWORD}", "api": "v1", "retries": 0}
    dataops = {
        "name": "canary-dataops",
        "side": "dataops",
        "description": "Every DataOps step kind against echoing sources.",
        "triggers": {"labels": {"canary": "yes"}},
        "allow": allow,
        "steps": [
            {"id": "fresh", "kind": "sql_freshness", "item": "table_freshness", **sql, "column": "{labels.column}",
             "max_age": "1h"},
            {"id": "volume", "kind": "sql_volume", "item": "volume", **sql, "column": "{labels.column}"},
            {"id": "schema", "kind": "sql_schema", "item": "schema_changes", **sql},
            {"id": "airflow", "kind": "airflow_failed_runs", "item": "failed_jobs", "url": f"{base}/airflow",
             **basic},
            {"id": "airflow-down", "kind": "airflow_failed_runs", "item": "recent_backfills",
             "url": f"{base}/airflow-down", "report": "backfills", **basic},
            {"id": "dbt", "kind": "dbt_artifacts", "item": "failed_jobs", "artifacts": f"{base}/dbt",
             "report": "tests", "token": "${CANARY_DBT_TOKEN}", "retries": 0},
            {"id": "dbt-down", "kind": "dbt_artifacts", "item": "table_freshness", "artifacts": f"{base}/dbt-down",
             "report": "freshness", "token": "${CANARY_DBT_TOKEN}", "retries": 0},
        ],
    }  # fmt: skip
    mlops = {
        "name": "canary-mlops",
        "side": "mlops",
        "description": "Every MLOps step kind against echoing sources.",
        "triggers": {"labels": {"canary": "yes"}},
        "allow": allow,
        "steps": [
            {"id": "health", "kind": "http_health", "item": "serving_health", "url": "{labels.health_url}",
             "base_url": base, "token": "${CANARY_HEALTH_TOKEN}", "headers": {"X-Api-Key": "${CANARY_HEALTH_KEY}"},
             "retries": 0},
            {"id": "health-elsewhere", "kind": "http_health", "item": "serving_health", "url": "{labels.evil_url}",
             "base_url": base, "token": "${CANARY_HEALTH_TOKEN}", "retries": 0},
            {"id": "registry", "kind": "mlflow_model_version", "item": "model_version",
             "tracking_uri": f"{base}/mlflow", "model": "churn", "token": "${CANARY_MLFLOW_TOKEN}", "retries": 0},
            {"id": "prom", "kind": "prometheus_query", "item": "serving_health", "url": f"{base}/prom",
             "query": "up", "op": ">", "threshold": 0, "token": "${CANARY_PROM_TOKEN}", "retries": 0},
            {"id": "prom-down", "kind": "prometheus_query", "item": "serving_health", "url": f"{base}/prom-down",
             "query": "up", "op": ">", "threshold": 0, "token": "${CANARY_PROM_TOKEN}", "retries": 0},
            {"id": "drift", "kind": "drift", "item": "drift_signals", "url": "${CANARY_WAREHOUSE_URL}",
             "table": "{labels.table}", "column": "amount", "time_column": "{labels.column}", "min_sample": 2,
             "retries": 0, "allow": {"columns": ["amount"]}},
        ],
    }  # fmt: skip
    return [dataops, mlops]


# --- Fixtures -------------------------------------------------------------------------------------------


@pytest.fixture
def warehouse(pg_url: str) -> Iterator[str]:
    """A table `canary_<hex>.orders` in PostgreSQL, stale, with a few rows for the windows and the drift."""
    schema = f"canary_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    now = datetime.now(UTC)
    rows = [{"amount": float(i % 7), "at": now - timedelta(hours=3 + i * 5)} for i in range(60)]
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(
            sa.text(f"CREATE TABLE {schema}.orders (amount double precision, updated_at timestamptz)")
        )
        conn.execute(sa.text(f"INSERT INTO {schema}.orders VALUES (:amount, :at)"), rows)
    yield f"{schema}.orders"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def canary_redis_url() -> str:
    return os.environ["HANDOFF_TEST_REDIS_URL"].rsplit("/", 1)[0] + f"/{CANARY_DB}"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """bot.logging at debug, JSON into a buffer: every line of our code and of the libraries, as written out."""
    root = logging.getLogger()
    touched = [logging.getLogger(n) for n in ("apscheduler", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in (root, *touched)]
    config = structlog.get_config()
    hooks = (sys.excepthook, threading.excepthook, sys.unraisablehook)
    stream = io.StringIO()
    try:
        bot_logging.configure("debug", "json", stream=stream)
        yield stream
    finally:
        logging.captureWarnings(False)
        for lg, handlers, level, propagate in saved:
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate
        structlog.configure(**config)
        sys.excepthook, threading.excepthook, sys.unraisablehook = hooks


@pytest.fixture
async def canary_bot(
    json_log: io.StringIO,
    canary_redis_url: str,
    pg_url: str,
    warehouse: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[BotUnderTest, LocalServer, LocalServer]]:
    """The bot with canary secrets everywhere, its playbooks, an echoing server and one it must never call.

    The logs are captured from before the bot starts (`json_log`) until after it stops."""
    echo, elsewhere = LocalServer().start(), LocalServer().start()
    serve_everything(echo)
    elsewhere.route("GET", "/*", lambda r: Reply(200, echoed(r)))
    for i, playbook in enumerate(playbooks(echo.url)):
        (tmp_path / f"canary-{i}.yaml").write_text(yaml.safe_dump(playbook, sort_keys=False))
    db_url = make_url(pg_url).set(password=CANARIES["db_password"]).render_as_string(hide_password=False)
    for name, value in {**ENV, "CANARY_WAREHOUSE_URL": db_url}.items():
        monkeypatch.setenv(name, value)
    sb = SlackSandbox(
        signing_secret=CANARIES["signing_secret"],
        bot_token=CANARIES["slack_bot_token"],
        bot_scopes=manifest_scopes(),
    )
    await sb.start()
    await flush(canary_redis_url)
    team = make_team(sb)
    sources = {
        "canary": {"kind": "generic", "auth": "bearer", "secret": CANARIES["alert_bearer"]},
        "signed": {"kind": "generic", "auth": "hmac", "secret": CANARIES["alert_hmac"]},
    }
    config = team_config(
        team,
        playbooks={"folders": [str(tmp_path)], "builtin": False},
        alerts={"announce_after": "0.2s", "sources": sources},
    )
    bot = CanaryBot(sb=sb, team=team, config=config, redis_url=canary_redis_url)
    await bot.start()
    try:
        yield bot, echo, elsewhere
    finally:
        await bot.stop()
        await sb.stop()
        echo.stop()
        elsewhere.stop()
    sb.assert_no_violations()


class CanaryBot(BotUnderTest):
    """The bot under test, signing with the canary signing secret."""

    def settings(self) -> Settings:
        return Settings(
            slack_bot_token=self.sb.bot_token,
            slack_signing_secret=CANARIES["signing_secret"],
            slack_api_url=self.sb.api_url,
            redis_url=self.redis_url,
        )


# --- Reading everything back ----------------------------------------------------------------------------


async def redis_dump(url: str) -> str:
    """Every key of the database and its value, whatever the type (streams and hashes included)."""
    client = aioredis.Redis.from_url(url)
    parts: list[str] = []
    try:
        async for key in client.scan_iter(count=500):
            kind = (await client.type(key)).decode()
            value: Any
            if kind == "string":
                value = await client.get(key)
            elif kind == "hash":
                value = await client.hgetall(key)
            elif kind == "list":
                value = await client.lrange(key, 0, -1)
            elif kind == "set":
                value = await client.smembers(key)
            elif kind == "zset":
                value = await client.zrange(key, 0, -1, withscores=True)
            elif kind == "stream":
                value = await client.xrange(key)
            else:
                value = f"<{kind}>"
            parts.append(f"{key!r} {kind} {value!r}")
    finally:
        await client.aclose()
    return "\n".join(parts)


async def stored_runs(url: str) -> list[PlaybookRun]:
    client = aioredis.Redis.from_url(url)
    try:
        found = [k async for k in client.scan_iter(match=keys.playbook_run("*"), count=500)]
        return [PlaybookRun.model_validate_json(await client.get(k) or b"{}") for k in found]
    finally:
        await client.aclose()


def slack_everything(sb: SlackSandbox) -> str:
    """Every Web API call (arguments and answers), message, ephemeral, open view, topic and purpose."""
    parts = [repr((c.method, c.args, c.response)) for c in sb.calls()]
    for channel in sb.channels(include_dms=True):
        parts.append(repr(channel))
        parts += [repr(m) for m in sb.messages(channel.id, include_system=True)]
    for user in sb.users():
        parts += [repr(e) for e in sb.ephemerals(user.id)]
        parts += [repr(v) for v in sb.open_views(user.id)]
        parts.append(repr(sb.home_view(user.id)))
    return "\n".join(parts)


async def post_alert(
    bot: BotUnderTest, source: str, payload: dict[str, Any], headers: dict[str, str]
) -> None:
    assert bot.server is not None
    body = json.dumps(payload).encode()
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            f"{bot.server.base_url}/alerts/{source}",
            content=body,
            headers={"Content-Type": "application/json", **headers},
        )
    assert answer.status_code == 202, answer.text


# --- The test -------------------------------------------------------------------------------------------


class TestSecretCanary:
    async def test_no_secret_anywhere(
        self,
        canary_bot: tuple[BotUnderTest, LocalServer, LocalServer],
        warehouse: str,
        canary_redis_url: str,
        json_log: io.StringIO,
    ) -> None:
        """Every step kind runs (on open, then by hand) against sources that echo the credentials back; no
        canary is in the logs, /metrics, Slack, Redis or the run records, and nothing reached the other host."""
        bot, echo, elsewhere = canary_bot
        kinds = {s["kind"] for p in playbooks(echo.url) for s in p["steps"]}
        assert kinds == set(STEP_KINDS), "a new step kind needs its part in the canary playbooks"

        labels = {"canary": "yes", "table": warehouse, "column": "updated_at", "health_url": f"{echo.url}/health",
                  "evil_url": f"{elsewhere.url}/health"}  # fmt: skip
        alert = {"dedup_key": "canary-1", "status": "firing", "summary": "canary", "severity": "sev2",
                 "labels": labels, "assets": [{"kind": "table", "name": warehouse}]}  # fmt: skip
        await post_alert(bot, "canary", alert, {"Authorization": f"Bearer {CANARIES['alert_bearer']}"})
        signed = json.dumps({**alert, "dedup_key": "canary-2"}).encode()
        await post_alert(
            bot,
            "signed",
            {**alert, "dedup_key": "canary-2"},
            {"X-Handoff-Signature": sign(CANARIES["alert_hmac"], signed)},
        )
        await service(bot).drain()
        (incident,) = [i for i in await bot.incidents() if i.opening.done]
        await bot.bot.playbooks.settle()
        await bot.sb.slash_command(
            bot.team.data[0], "/incident", "run canary-dataops", channel=incident.channel_id
        )
        await bot.sb.slash_command(
            bot.team.data[0], "/incident", "run no-such-playbook", channel=incident.channel_id
        )
        await eventually(lambda: len(bot.sb.ephemerals(bot.team.data[0])) >= 1, what="ephemeral answer")

        async def three_runs() -> bool:
            await bot.bot.playbooks.settle()
            return len(await stored_runs(canary_redis_url)) == 3

        await eventually(three_runs, timeout=60, what="three stored runs")
        assert bot.server is not None
        async with httpx.AsyncClient(timeout=10) as client:
            metrics = (await client.get(f"{bot.server.base_url}/metrics")).text

        runs = await stored_runs(canary_redis_url)
        states = {s.id: s for run in runs for s in run.steps}
        # The evidence was gathered: the steps ran against the echoing sources, the refused one did not.
        assert states["airflow"].state is StepState.ANOMALOUS, states["airflow"].error
        assert "Basic ***" in states["airflow"].detail
        assert states["registry"].state is StepState.ANOMALOUS, states["registry"].error
        assert states["prom"].state is StepState.ANOMALOUS, states["prom"].error
        assert states["dbt"].state is StepState.ANOMALOUS, states["dbt"].error
        assert states["health"].state is StepState.ANOMALOUS, states["health"].error
        assert states["fresh"].state is StepState.ANOMALOUS, states["fresh"].error
        for down in ("airflow-down", "dbt-down", "prom-down"):
            assert states[down].state is StepState.FAILED
            assert "answered 5" in (states[down].error or "")
        assert (states["health-elsewhere"].error or "").startswith("refused: {labels.evil_url} points at")
        assert elsewhere.requests == []
        assert any(r.headers.get("authorization", "").startswith("Basic ") for r in echo.requests)

        assert_no_canary("the logs", json_log.getvalue())
        assert_no_canary("/metrics", metrics)
        assert_no_canary("Slack", slack_everything(bot.sb))
        assert_no_canary("Redis", await redis_dump(canary_redis_url))
        assert_no_canary("the run records", "\n".join(r.model_dump_json() for r in runs))
        assert (
            len(json_log.getvalue().splitlines()) > 50
        )  # the logs were written, at debug, libraries included
