"""Fixtures of the playbook tests: real Redis, PostgreSQL, MLflow and Prometheus, and local HTTP sources."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis
import sqlalchemy as sa
from redis.asyncio import Redis

from bot.store.snapshots import RedisSnapshotStore
from playbooks.runner import RunContext
from tests.playbooks.helpers import Warehouse
from tests.playbooks.servers import LocalServer
from tests.support.reference import FIXTURES

REDIS_URL = os.environ.get("HANDOFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/15"
PG_URL = os.environ.get("HANDOFF_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(url: str, proc: subprocess.Popen[bytes], seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} not ready after {seconds} s:\n{log.read_text()[-2000:]}")


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    # The servers fork workers: end the whole process group, politely first.
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def evidence_dir() -> Path:
    path = FIXTURES / "evidence"
    if not path.is_dir():
        pytest.fail(
            f"the recorded evidence payloads are missing: expected {path} (see tests/fixtures/NOTICE.md)"
        )
    return path


@pytest.fixture(scope="session")
def redis_available() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({exc}): start one with "
            "`redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no`"
        )
    return REDIS_URL


@pytest.fixture
async def redis_client(redis_available: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_available)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def snapshots(redis_client: Redis) -> RedisSnapshotStore:
    return RedisSnapshotStore(redis_client)


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_URL}: {str(exc.orig).splitlines()[0]} "
            "(start it: pg_ctlcluster $(ls /etc/postgresql) main start, or unset HANDOFF_TEST_PG_URL)"
        )
    yield engine
    engine.dispose()


@pytest.fixture
def pg_schema(pg_engine: sa.Engine) -> Iterator[str]:
    """A schema of its own for one test, dropped after it."""
    name = f"pb_{uuid.uuid4().hex[:10]}"
    with pg_engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    yield name
    with pg_engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer().start()
    yield server
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.fixture
def make_ctx(http: httpx.AsyncClient, snapshots: RedisSnapshotStore) -> Callable[..., RunContext]:
    """A RunContext on the real Redis; `now` freezes the clock, `env` sets the `${NAME}` values."""

    def make(now: datetime | None = None, env: dict[str, str] | None = None, **kw: object) -> RunContext:
        clock = (lambda: now) if now is not None else (lambda: datetime.now(UTC))
        return RunContext(http=http, snapshots=snapshots, clock=clock, env=env or {}, **kw)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def mlflow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real MLflow tracking server and registry for the session (about 10 s to start)."""
    exe = shutil.which("mlflow", path=str(VENV_BIN)) or shutil.which("mlflow")
    if exe is None:
        pytest.fail(
            "the mlflow executable is missing: `.venv/bin/pip install mlflow` (a test-only dependency)"
        )
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = root / "server.log"
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "server", "--backend-store-uri", f"sqlite:///{root}/mlflow.db", "--default-artifact-root",
             f"{root}/artifacts", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env,
        )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}/health", proc, 90, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(proc)


@pytest.fixture(scope="session")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus server for the session (ready in well under a second)."""
    exe = shutil.which("prometheus")
    if exe is None:
        pytest.fail("the prometheus executable is missing: `apt-get install -y prometheus`")
    root = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    config = root / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, f"--config.file={config}", f"--storage.tsdb.path={root / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}/-/ready", proc, 30, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(proc)


@pytest.fixture(params=["postgresql", "duckdb"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """The database a SQL step reads: each test runs on PostgreSQL (own schema) and on a DuckDB file."""
    if request.param == "postgresql":
        yield Warehouse("postgresql", PG_URL, request.getfixturevalue("pg_schema"))
    else:
        yield Warehouse("duckdb", f"duckdb:///{tmp_path / 'warehouse.duckdb'}", None)
