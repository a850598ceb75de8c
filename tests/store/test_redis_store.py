"""The IncidentStore contract, run against a real Redis; durability against a restarted AOF redis-server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from bot.domain.errors import Conflict, IncidentNotFound
from bot.domain.evidence import Checklists
from bot.domain.incident import Incident, touch
from bot.domain.models import IncidentState, Severity, TimelineEntry
from bot.store.redis_store import RedisIncidentStore
from tests.support.services import RedisServer

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def make_incident(incident_id: str, severity: Severity = Severity.SEV2, at: datetime = T0) -> Incident:
    return Incident(
        id=incident_id,
        title=f"Incident {incident_id}",
        severity=severity,
        created_at=at,
        updated_at=at,
        last_activity_at=at,
        evidence=Checklists().blank_evidence(),
    )


def entry(text: str) -> TimelineEntry:
    return TimelineEntry(at=T0, kind="note", text=text)


@pytest.fixture
def store(redis: aioredis.Redis) -> RedisIncidentStore:
    return RedisIncidentStore(redis)


class TestRedisIncidentStore:
    async def test_create_and_get_round_trip(self, store: RedisIncidentStore) -> None:
        """A created incident reads back equal, at version 1, with its timeline."""
        created, fresh = await store.create(make_incident("INC-1"), [entry("opened")])
        assert fresh
        assert created.version == 1
        assert await store.get("INC-1") == created
        assert [e.text for e in await store.timeline("INC-1")] == ["opened"]

    async def test_missing_incident_raises(self, store: RedisIncidentStore) -> None:
        """Reading an unknown id raises IncidentNotFound, not None."""
        with pytest.raises(IncidentNotFound):
            await store.get("INC-404")

    async def test_idempotency_key_returns_first_incident(self, store: RedisIncidentStore) -> None:
        """The same request token creates one incident; the second call gets the first back."""
        first, fresh1 = await store.create(make_incident("INC-1"), idempotency_key="req-1")
        second, fresh2 = await store.create(make_incident("INC-2"), idempotency_key="req-1")
        assert (fresh1, fresh2) == (True, False)
        assert second.id == first.id == "INC-1"
        with pytest.raises(IncidentNotFound):
            await store.get("INC-2")

    async def test_stale_update_is_a_conflict(self, store: RedisIncidentStore) -> None:
        """An update based on an old version raises Conflict and changes nothing."""
        created, _ = await store.create(make_incident("INC-1"))
        await store.update(created.model_copy(update={"title": "first writer"}))
        with pytest.raises(Conflict):
            await store.update(created.model_copy(update={"title": "second writer"}))
        assert (await store.get("INC-1")).title == "first writer"

    async def test_concurrent_mutations_lose_nothing(self, store: RedisIncidentStore) -> None:
        """Fifty concurrent read-modify-writes each land: none is silently lost."""
        await store.create(make_incident("INC-1"))

        async def add_asset(n: int) -> None:
            def change(i: Incident) -> Incident:
                return i.model_copy(update={"description": i.description + f"[{n}]"})

            await store.mutate("INC-1", change, lambda b, a: [entry(f"change {n}")])

        await asyncio.gather(*(add_asset(n) for n in range(50)))
        final = await store.get("INC-1")
        assert sorted(final.description.strip("[]").split("][")) == sorted(str(n) for n in range(50))
        assert final.version == 51
        assert len(await store.timeline("INC-1")) == 50

    async def test_stale_reads_only_idle_incidents_of_that_severity(self, store: RedisIncidentStore) -> None:
        """The activity index returns the idle incidents of a severity, and forgets closed ones."""
        old = make_incident("INC-1", Severity.SEV2, T0 - timedelta(hours=2))
        await store.create(old)
        await store.create(make_incident("INC-2", Severity.SEV2, T0))
        await store.create(make_incident("INC-3", Severity.SEV1, T0 - timedelta(hours=2)))
        idle = await store.stale(Severity.SEV2, timedelta(hours=1), T0)
        assert [i.id for i in idle] == ["INC-1"]
        current = await store.get("INC-1")
        await store.update(touch(current, T0))
        assert await store.stale(Severity.SEV2, timedelta(hours=1), T0) == []
        closed = (await store.get("INC-3")).model_copy(update={"state": IncidentState.CLOSED})
        await store.update(closed)
        assert await store.stale(Severity.SEV1, timedelta(hours=1), T0) == []

    async def test_severity_change_moves_index(self, store: RedisIncidentStore) -> None:
        """Raising the severity moves the incident to that severity's activity index."""
        created, _ = await store.create(make_incident("INC-1", Severity.SEV3, T0 - timedelta(hours=5)))
        await store.update(created.model_copy(update={"severity": Severity.SEV1}))
        assert await store.stale(Severity.SEV3, timedelta(hours=1), T0) == []
        assert [i.id for i in await store.stale(Severity.SEV1, timedelta(hours=1), T0)] == ["INC-1"]

    async def test_channel_binding_and_claim_once(self, store: RedisIncidentStore) -> None:
        """A channel finds its incident; a once-token is granted to the first caller only."""
        await store.create(make_incident("INC-1"))
        await store.bind_channel("C123", "INC-1")
        found = await store.find_by_channel("C123")
        assert found is not None
        assert found.id == "INC-1"
        assert await store.find_by_channel("C999") is None
        results = await asyncio.gather(*(store.claim_once("slot-1", timedelta(minutes=5)) for _ in range(20)))
        assert results.count(True) == 1


class TestRedisDurability:
    async def test_incidents_survive_a_redis_restart_with_aof(self) -> None:
        """Incidents and timelines written to an AOF redis-server read back unchanged after a kill -9."""
        server = RedisServer(appendonly=True).start()
        try:
            client = aioredis.Redis.from_url(server.url)
            store = RedisIncidentStore(client)
            written = [
                (await store.create(make_incident(f"INC-{n}"), [entry(f"e{n}")]))[0] for n in range(20)
            ]
            await client.aclose()
            server.kill()
            server.start()
            client = aioredis.Redis.from_url(server.url)
            store = RedisIncidentStore(client)
            for incident in written:
                assert await store.get(incident.id) == incident
                assert [e.text for e in await store.timeline(incident.id)] == [f"e{incident.id[4:]}"]
            await client.aclose()
        finally:
            server.stop()
