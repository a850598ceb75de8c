"""Session-wide real services: Redis and PostgreSQL, the running ones or our own; no test may skip."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.support.services import PostgresServer, RedisServer, port_open

pytest_plugins = ["tests.support.fixtures"]

_started: list[RedisServer | PostgresServer] = []


def pytest_configure(config: pytest.Config) -> None:
    """Start Redis and PostgreSQL before collection when none answers on the usual ports."""
    if "HANDOFF_TEST_REDIS_URL" not in os.environ:
        if port_open(6379):
            os.environ["HANDOFF_TEST_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        else:
            server = RedisServer().start()
            _started.append(server)
            os.environ["HANDOFF_TEST_REDIS_URL"] = server.url
    if "HANDOFF_TEST_PG_URL" not in os.environ:
        if port_open(5432):
            os.environ["HANDOFF_TEST_PG_URL"] = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        else:
            pg = PostgresServer().start()
            _started.append(pg)
            os.environ["HANDOFF_TEST_PG_URL"] = pg.url


def pytest_unconfigure(config: pytest.Config) -> None:
    for server in reversed(_started):
        server.stop()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A skipped test hides a missing service or package; in this project that is a failure, with no way around it.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"FAILED: {len(skipped)} test(s) skipped; nothing may skip here.", red=True)
        if session.exitstatus == 0:
            session.exitstatus = 1


def _redis_url(db: int) -> str:
    base = os.environ["HANDOFF_TEST_REDIS_URL"].rsplit("/", 1)[0]
    return f"{base}/{db}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis, database 1 (flushed before each test that uses `redis`)."""
    return _redis_url(1)


@pytest.fixture(scope="session")
def pg_url() -> str:
    return os.environ["HANDOFF_TEST_PG_URL"]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()
