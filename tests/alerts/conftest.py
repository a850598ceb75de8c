"""Fixtures of the alert intake tests: a real Redis (db 14, flushed), the webhook app, recorded payloads."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.applications import Starlette

from bot.alerts.config import AlertSourceConfig
from bot.alerts.kinds import SourceKind
from bot.alerts.routing import RoutingRules
from bot.services.intake import AlertIntake
from bot.store.alert_inbox import AlertInbox
from handlers.alerts.webhook import alert_routes
from tests.support.reference import fixture

# The session's Redis (tests/conftest.py sets HANDOFF_TEST_REDIS_URL), database 14, flushed around each test.
REDIS_URL = os.environ.get("HANDOFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"
FIXTURES = fixture("alerts")

AM_TOKEN = "am-token-0123456789"
GX_TOKEN = "gx-token-0123456789"
SODA_TOKEN = "soda-token-0123456789"
GRAFANA_SECRET = "grafana-hmac-secret"
GENERIC_SECRET = "generic-hmac-secret"

SOURCES: dict[str, AlertSourceConfig] = {
    "am": AlertSourceConfig(kind=SourceKind.ALERTMANAGER, secret=AM_TOKEN),
    "grafana": AlertSourceConfig(kind=SourceKind.GRAFANA, auth="hmac", secret=GRAFANA_SECRET),
    "gx": AlertSourceConfig(kind=SourceKind.GREAT_EXPECTATIONS, secret=GX_TOKEN),
    "soda": AlertSourceConfig(kind=SourceKind.SODA, secret=SODA_TOKEN),
    "generic": AlertSourceConfig(kind=SourceKind.GENERIC, auth="hmac", secret=GENERIC_SECRET),
    "nosecret": AlertSourceConfig(kind=SourceKind.ALERTMANAGER),
    "emptysecret": AlertSourceConfig(kind=SourceKind.ALERTMANAGER, secret=""),
    "off": AlertSourceConfig(kind=SourceKind.ALERTMANAGER, secret=AM_TOKEN, enabled=False),
}


def fixture_bytes(name: str) -> bytes:
    path = FIXTURES / name
    if not path.exists():
        pytest.fail(f"recorded payload {path} is missing: see tests/fixtures/NOTICE.md")
    return path.read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisConnectionError, OSError) as exc:
        await client.aclose()
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({exc}); the alert intake tests need a real Redis: "
            "set HANDOFF_TEST_REDIS_URL, or start one with "
            "`redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no`"
        )
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def inbox(redis: Redis) -> AlertInbox:
    return AlertInbox(redis)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def client(inbox: AlertInbox, registry: CollectorRegistry) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=alert_routes(SOURCES, AlertIntake(inbox), RoutingRules(), registry=registry))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://handoff") as c:
        yield c
