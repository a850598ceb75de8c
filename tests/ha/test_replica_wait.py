"""REDIS_WAIT_REPLICAS: an accepted alert, an alert binding and an incident write return only once a replica holds
them, and fail (503 at the webhook) when too few replicas confirm; every such write is harmless when sent twice."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
import redis.asyncio as aioredis

from bot.domain.alerts import Alert, AlertStatus
from bot.domain.errors import Conflict, StoreUnavailable
from bot.domain.models import Asset, AssetKind, Severity
from bot.store import Stores, keys
from bot.store.redis_store import RedisIncidentStore, _ResentSafeLock
from bot.store.replicas import ReplicaWait
from slack_sandbox import SlackSandbox
from tests.ha.cluster import Node, SentinelCluster
from tests.store.test_redis_store import make_incident
from tests.support.alerts import TOKENS, alerts_config, generic_alert, webhook_url
from tests.support.bot import BotUnderTest, make_team

ASSET = Asset(kind=AssetKind.TABLE, name="orders")


def an_alert(key: str) -> Alert:
    return Alert(
        source="generic", dedup_key=key, status=AlertStatus.FIRING, severity=Severity.SEV3, summary=key
    )


@pytest.fixture(scope="module")
def pair() -> Iterator[SentinelCluster]:
    """A master and one replica, no Sentinels."""
    cluster = SentinelCluster(replicas=1, sentinel_count=0).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def master_url(pair: SentinelCluster) -> str:
    assert pair.master is not None
    return f"redis://127.0.0.1:{pair.master.port}/0"


def replica(pair: SentinelCluster) -> Node:
    return pair.data[1]


@pytest.fixture
async def master(pair: SentinelCluster) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(master_url(pair))
    await client.flushdb()
    yield client
    await client.aclose()


class TestConfirmed:
    async def test_a_confirmed_write_is_on_the_replica_when_it_returns(
        self, master: aioredis.Redis, pair: SentinelCluster
    ) -> None:
        """With WAIT 1, what put, create and bind_alert wrote can be read on the replica as soon as they return."""
        stores = Stores.on(master, ReplicaWait(replicas=1, timeout_ms=5000))
        (entry_id,) = await stores.inbox.put([an_alert("confirmed")])
        assert replica(pair).ask("XLEN", keys.ALERT_STREAM) == 1
        _, created = await stores.incidents.create(make_incident("INC-0001"))
        assert created
        assert replica(pair).ask("HGET", keys.incident("INC-0001"), "version") == b"1"
        await stores.incidents.bind_alert("INC-0001", "confirmed", [ASSET], timedelta(minutes=5))
        assert replica(pair).ask("GET", keys.alert_key("confirmed")) == b"INC-0001"
        assert replica(pair).ask("GET", keys.asset_incident(str(ASSET))) == b"INC-0001"
        assert entry_id

    async def test_too_few_replicas_is_store_unavailable(self, master: aioredis.Redis) -> None:
        """WAIT 2 with one replica: each confirmed write says so, naming how many confirmed it."""
        stores = Stores.on(master, ReplicaWait(replicas=2, timeout_ms=50))
        with pytest.raises(StoreUnavailable, match="1 of the 2 replica"):
            await stores.inbox.put([an_alert("unconfirmed")])
        with pytest.raises(StoreUnavailable, match="1 of the 2 replica"):
            await stores.incidents.create(make_incident("INC-0002"))
        with pytest.raises(StoreUnavailable, match="1 of the 2 replica"):
            await stores.incidents.bind_alert("INC-0002", "unconfirmed", [], timedelta(minutes=5))

    async def test_a_conflict_is_not_a_replica_failure(self, master: aioredis.Redis) -> None:
        """A versioned write that lost the race wrote nothing: it is a Conflict whatever WAIT says."""
        store = RedisIncidentStore(master, wait=ReplicaWait(replicas=2, timeout_ms=50))
        await RedisIncidentStore(master).create(make_incident("INC-0003"))
        with pytest.raises(Conflict):
            await store.create(make_incident("INC-0003").model_copy(update={"title": "another"}))


class TestWebhook:
    async def test_the_webhook_answers_503_when_no_replica_confirms(
        self, sb: SlackSandbox, pair: SentinelCluster, master: aioredis.Redis
    ) -> None:
        """REDIS_WAIT_REPLICAS=2 with one replica: the alert is not acknowledged, the sender is told to retry."""
        team = make_team(sb)
        bot = BotUnderTest(
            sb=sb,
            team=team,
            config=alerts_config(team),
            redis_url=master_url(pair),
            settings_overrides={"redis_wait_replicas": 2, "redis_wait_timeout_ms": 50},
        )
        await bot.start()
        try:
            headers = {"Authorization": f"Bearer {TOKENS['generic']}", "Content-Type": "application/json"}
            body = json.dumps(generic_alert("no-replica", "orders")).encode()
            async with httpx.AsyncClient(timeout=30) as client:
                response = await client.post(webhook_url(bot, "generic"), content=body, headers=headers)
            assert response.status_code == 503
        finally:
            await bot.stop()


class TestResentWrites:
    """redis-py sends a command again when its connection dropped before the answer (a failover): the first
    may have landed. Each write of the store recognises itself."""

    async def test_a_versioned_write_sent_twice_succeeds_twice(self, redis: aioredis.Redis) -> None:
        store = RedisIncidentStore(redis)
        stored, _ = await store.create(make_incident("INC-0001"))
        assert await store._put(stored, -1, [])  # the create again, as re-sent
        changed = stored.model_copy(update={"title": "changed", "version": 2})
        assert await store._put(changed, 1, [])
        assert await store._put(changed, 1, [])  # the update again
        assert (await store.get("INC-0001")).title == "changed"
        assert len(await store.timeline("INC-0001")) == 0

    async def test_a_different_write_at_the_same_version_still_conflicts(self, redis: aioredis.Redis) -> None:
        store = RedisIncidentStore(redis)
        stored, _ = await store.create(make_incident("INC-0001"))
        await store._put(stored.model_copy(update={"title": "mine", "version": 2}), 1, [])
        assert not await store._put(stored.model_copy(update={"title": "theirs", "version": 2}), 1, [])

    async def test_an_idempotency_claim_found_with_our_own_id_is_ours(self, redis: aioredis.Redis) -> None:
        """The claim landed, its answer was lost, the SET NX was sent again: the incident is still created."""
        store = RedisIncidentStore(redis)
        await redis.set(keys.idempotency("cmd:x"), "INC-0001")
        incident, created = await store.create(make_incident("INC-0001"), idempotency_key="cmd:x")
        assert created
        assert incident.version == 1
        other, again = await store.create(make_incident("INC-0002"), idempotency_key="cmd:x")
        assert not again
        assert other.id == "INC-0001"

    async def test_once_tokens_and_locks_still_exclude(self, redis: aioredis.Redis) -> None:
        store = RedisIncidentStore(redis)
        assert await store.claim_once("t", timedelta(seconds=5))
        assert not await store.claim_once("t", timedelta(seconds=5))
        async with store.lock("l", lease=timedelta(seconds=5), wait=timedelta(seconds=1)):
            lock = redis.lock(keys.lock("l"), blocking_timeout=0.2)
            assert not await lock.acquire()

    async def test_a_lock_found_with_our_own_token_is_ours(self, redis: aioredis.Redis) -> None:
        lock = _ResentSafeLock(redis, keys.lock("resent"), timeout=5)
        await redis.set(keys.lock("resent"), b"our-token")
        assert await lock.do_acquire(b"our-token")
        assert not await lock.do_acquire(b"their-token")
