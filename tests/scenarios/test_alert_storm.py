"""An alert storm: 10,000 alerts over 100 dedup keys, posted concurrently, become exactly 100 incidents."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog
from redis.asyncio import Redis

from bot.store import keys
from slack_sandbox import SlackSandbox
from tests.support.alerts import (
    alert_entries,
    alerts_redis_url,
    all_settled,
    am_alert,
    am_webhook,
    incident_channels,
    opened,
    post_alerts,
    serving,
)
from tests.support.bot import BotUnderTest, eventually

KEYS = 100  # distinct dedup keys, each on its own model, so grouping by asset cannot merge two of them
PER_KEY = 100  # alerts per key: 10,000 in all
PER_REQUEST = 50  # alerts per webhook request (about 20 KB, well under the 1 MB body limit)
CONCURRENCY = 16  # requests in flight at once

log = structlog.get_logger(__name__)


@pytest.fixture
def redis_url() -> str:
    return alerts_redis_url()


@pytest.fixture
async def bot(sb: SlackSandbox, redis_url: str) -> AsyncIterator[BotUnderTest]:
    """The bot with its alert consumer running, as in production."""
    async with serving(sb, redis_url, background=True, announce_after="1s") as under_test:
        yield under_test


def fingerprint(key: int) -> str:
    return f"storm{key:011x}"


def storm_payloads() -> list[dict[str, object]]:
    """The 10,000 alerts in requests of 50, each request mixing keys, every key re-firing 100 times."""
    alerts = [
        am_alert(
            fingerprint(key),
            {"alertname": "PredictionVolumeLow", "model": f"storm-model-{key:03d}", "severity": "warning"},
            f"storm-model-{key:03d} prediction volume low (reading {n})",
        )
        for n in range(PER_KEY)
        for key in range(KEYS)
    ]
    return [am_webhook(alerts[i : i + PER_REQUEST]) for i in range(0, len(alerts), PER_REQUEST)]


async def _inbox_done(redis: Redis) -> bool:
    """Every accepted alert read by the consumer group and acked (cheap to poll, unlike the timelines)."""
    (group,) = await redis.xinfo_groups(keys.ALERT_STREAM)
    return bool(group["entries-read"] == KEYS * PER_KEY and group["lag"] == 0 and group["pending"] == 0)


async def _all_opened(bot: BotUnderTest) -> bool:
    return len(await opened(bot)) == KEYS


@pytest.mark.slow
class TestAlertStorm:
    async def test_ten_thousand_alerts_over_a_hundred_keys_make_a_hundred_incidents(
        self, bot: BotUnderTest, redis_url: str
    ) -> None:
        """Every alert accepted, exactly one incident and one channel per key, each alert on its timeline."""
        payloads = storm_payloads()
        slots = asyncio.Semaphore(CONCURRENCY)
        started = time.monotonic()

        async def send(payload: dict[str, object], client: httpx.AsyncClient) -> int:
            async with slots:
                return len(await post_alerts(bot, "alertmanager", payload, client))

        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            accepted = await asyncio.gather(*(send(p, client) for p in payloads))
        assert sum(accepted) == KEYS * PER_KEY
        posted = time.monotonic() - started

        redis = Redis.from_url(redis_url)
        try:
            await eventually(lambda: _inbox_done(redis), timeout=240, what="every alert processed and acked")
            processed = time.monotonic() - started
            await eventually(lambda: _all_opened(bot), timeout=60, what="every incident's channel opened")
            assert await redis.xlen(keys.ALERT_STREAM) == KEYS * PER_KEY
            assert await redis.xlen(keys.ALERT_DEAD_LETTER) == 0
        finally:
            await redis.aclose()
        incidents = await opened(bot)
        assert len(incidents) == KEYS
        assert len(incident_channels(bot)) == KEYS
        assert len({i.channel_id for i in incidents}) == KEYS
        for incident in incidents:
            (key,) = incident.alert_keys
            assert incident.alerts_firing == [key]
            (asset,) = incident.assets
            assert asset.name == f"storm-model-{int(key.removeprefix('storm'), 16):03d}"
            # The first alert of a key opened the incident; the 99 after it are each one timeline entry.
            assert await alert_entries(bot, incident.id) == [key] * (PER_KEY - 1)
        await eventually(lambda: all_settled(bot, incidents), timeout=60, what="every alert announced")
        log.info("storm.done", posted_s=round(posted, 1), processed_s=round(processed, 1))
