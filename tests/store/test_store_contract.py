"""The rest of the store contract against a real Redis: alert bindings, once-tokens, locks, mutate's retries,
playbook run records, the inbox refusing when Redis is gone, and `connect` building every store."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from bot.domain.alerts import Alert, AlertStatus
from bot.domain.errors import Conflict, IllegalTransition, LockFailed, StoreUnavailable
from bot.domain.incident import Incident
from bot.domain.models import Asset, AssetKind, Severity, Side
from bot.store import Stores, connect, keys
from bot.store.alert_inbox import AlertInbox
from bot.store.redis_store import RedisIncidentStore
from playbooks.results import PlaybookRun, StepResult
from tests.store.test_redis_store import T0, make_incident

TABLE = Asset(kind=AssetKind.TABLE, name="warehouse.orders")
MODEL = Asset(kind=AssetKind.MODEL, name="churn")
SEC = timedelta(seconds=1)


@pytest.fixture
def store(redis: aioredis.Redis) -> RedisIncidentStore:
    return RedisIncidentStore(redis)


class TestAlertBindings:
    async def test_a_bound_key_and_its_assets_find_the_incident(self, store: RedisIncidentStore) -> None:
        """After bind_alert, the key and each asset name the incident; unknown ones name none."""
        await store.bind_alert("INC-1", "orders-freshness", [TABLE, MODEL], timedelta(minutes=30))
        assert await store.incident_for_alert("orders-freshness") == "INC-1"
        assert await store.incident_for_asset(TABLE) == "INC-1"
        assert await store.incident_for_asset(MODEL) == "INC-1"
        assert await store.incident_for_alert("other-key") is None
        assert await store.incident_for_asset(Asset(kind=AssetKind.TABLE, name="other")) is None

    async def test_a_later_binding_moves_the_key(self, store: RedisIncidentStore) -> None:
        """The key belongs to the incident it was bound to last."""
        await store.bind_alert("INC-1", "k", [], timedelta(minutes=30))
        await store.bind_alert("INC-2", "k", [TABLE], timedelta(minutes=30))
        assert await store.incident_for_alert("k") == "INC-2"
        assert await store.incident_for_asset(TABLE) == "INC-2"

    async def test_assets_are_bound_for_the_window_keys_for_good(
        self, store: RedisIncidentStore, redis: aioredis.Redis
    ) -> None:
        """The asset's binding expires with the grouping window; the key's never does (dedup is not windowed)."""
        await store.bind_alert("INC-1", "k", [TABLE], 90 * SEC)
        assert 85_000 < await redis.pttl(keys.asset_incident(str(TABLE))) <= 90_000
        assert await redis.ttl(keys.alert_key("k")) == -1

    async def test_an_asset_is_forgotten_after_its_window(self, store: RedisIncidentStore) -> None:
        """Past the window, an alert on the asset no longer finds the incident (a window under 1 s is 1 s)."""
        await store.bind_alert("INC-1", "k", [TABLE], timedelta(milliseconds=10))
        assert await store.incident_for_asset(TABLE) == "INC-1"
        await asyncio.sleep(1.1)
        assert await store.incident_for_asset(TABLE) is None
        assert await store.incident_for_alert("k") == "INC-1"


class TestOnceTokens:
    async def test_a_released_token_can_be_claimed_again(self, store: RedisIncidentStore) -> None:
        """claim_once is refused while the token is held, granted again after release."""
        assert await store.claim_once("t", timedelta(minutes=5))
        assert not await store.claim_once("t", timedelta(minutes=5))
        await store.release("t")
        assert await store.claim_once("t", timedelta(minutes=5))

    async def test_extend_renews_only_a_held_token(self, store: RedisIncidentStore) -> None:
        """extend is True while the token is held, False once it was given back (or had expired)."""
        assert not await store.extend("t", timedelta(minutes=5))
        await store.claim_once("t", timedelta(minutes=5))
        assert await store.extend("t", timedelta(minutes=5))
        await store.release("t")
        assert not await store.extend("t", timedelta(minutes=5))

    async def test_a_token_expires_after_its_ttl(self, store: RedisIncidentStore) -> None:
        """A claim is a lease: a holder that never releases it frees it after the TTL."""
        assert await store.claim_once("t", SEC)
        await asyncio.sleep(1.1)
        assert await store.claim_once("t", SEC)


class TestLocks:
    async def test_holders_take_turns(self, store: RedisIncidentStore) -> None:
        """Two holders of one lock never overlap: the second waits for the first to leave."""
        events: list[str] = []

        async def hold(name: str) -> None:
            async with store.lock("lane", lease=10 * SEC, wait=10 * SEC):
                events.append(f"{name} in")
                await asyncio.sleep(0.15)
                events.append(f"{name} out")

        await asyncio.gather(hold("a"), hold("b"))
        assert events in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])

    async def test_a_lock_not_taken_within_the_wait_fails(self, store: RedisIncidentStore) -> None:
        """LockFailed when another holder keeps the lock past the wait; the holder is not disturbed."""
        async with store.lock("lane", lease=10 * SEC, wait=SEC):
            with pytest.raises(LockFailed):
                async with store.lock("lane", lease=10 * SEC, wait=timedelta(milliseconds=200)):
                    pytest.fail("taken while held")
        async with store.lock("lane", lease=10 * SEC, wait=SEC):
            pass  # given back: free again

    async def test_a_lock_that_lapsed_fails_on_release(self, store: RedisIncidentStore) -> None:
        """A block that outlives the lease ends in LockFailed: someone else may have held the lock meanwhile."""
        with pytest.raises(LockFailed):
            async with store.lock("lane", lease=timedelta(milliseconds=100), wait=SEC):
                await asyncio.sleep(0.3)

    async def test_an_error_in_the_block_passes_through_and_frees_the_lock(
        self, store: RedisIncidentStore
    ) -> None:
        """The block's own error is not turned into a lock error, and the lock is given back."""
        with pytest.raises(ValueError, match="boom"):
            async with store.lock("lane", lease=10 * SEC, wait=SEC):
                raise ValueError("boom")
        async with store.lock("lane", lease=10 * SEC, wait=timedelta(milliseconds=100)):
            pass

    async def test_locks_of_different_names_are_independent(self, store: RedisIncidentStore) -> None:
        async with (
            store.lock("one", lease=10 * SEC, wait=SEC),
            store.lock("two", lease=10 * SEC, wait=timedelta(milliseconds=100)),
        ):
            pass


class TestMutateRetries:
    async def test_a_change_losing_every_race_ends_in_conflict(self, redis: aioredis.Redis) -> None:
        """When another writer wins every attempt, mutate gives up after max_retries with Conflict."""
        store = RedisIncidentStore(redis, max_retries=4)
        await store.create(make_incident("INC-1"))
        attempts = 0

        async def losing(incident: Incident) -> Incident:
            nonlocal attempts
            attempts += 1
            await store.update(await store.get("INC-1"))  # someone else writes in between
            return incident.model_copy(update={"title": "mine"})

        with pytest.raises(Conflict) as raised:
            await store.mutate("INC-1", losing, lambda b, a: [])
        assert attempts == 4
        assert raised.value.expected == -1
        assert (await store.get("INC-1")).title == "Incident INC-1"

    async def test_a_change_that_wins_a_later_race_lands(self, redis: aioredis.Redis) -> None:
        """A conflict is retried with a fresh read: the change lands on the other writer's version."""
        store = RedisIncidentStore(redis)
        await store.create(make_incident("INC-1"))
        attempts = 0

        async def loses_twice(incident: Incident) -> Incident:
            nonlocal attempts
            attempts += 1
            if attempts <= 2:
                await store.update(await store.get("INC-1"))
            return incident.model_copy(update={"description": incident.description + "x"})

        before, after = await store.mutate("INC-1", loses_twice, lambda b, a: [])
        assert attempts == 3
        assert after.description == "x"
        assert after.version == before.version + 1 == 4

    async def test_a_refused_change_is_not_retried(self, store: RedisIncidentStore) -> None:
        """An error from the change itself (a domain rule) passes through at once."""
        await store.create(make_incident("INC-1"))
        calls = 0

        def refuse(incident: Incident) -> Incident:
            nonlocal calls
            calls += 1
            raise IllegalTransition("no")

        with pytest.raises(IllegalTransition):
            await store.mutate("INC-1", refuse, lambda b, a: [])
        assert calls == 1

    async def test_an_unchanged_incident_is_not_written(self, store: RedisIncidentStore) -> None:
        """A change that returns the incident as it was writes nothing: same version, no timeline entry."""
        created, _ = await store.create(make_incident("INC-1"))
        before, after = await store.mutate("INC-1", lambda i: i, lambda b, a: pytest.fail("no entries"))
        assert before == after == created
        assert (await store.get("INC-1")).version == 1


def make_run(run_id: str = "run-1") -> PlaybookRun:
    return PlaybookRun(
        run_id=run_id,
        playbook="data-health",
        side=Side.DATAOPS,
        incident_id="INC-1",
        started_at=T0,
        finished_at=T0 + SEC,
        steps=[StepResult(id="freshness", kind="sql_freshness", item_ref="dataops.table_freshness")],
    )


class TestRunRecords:
    async def test_a_saved_run_reads_back(self, store: RedisIncidentStore) -> None:
        run = make_run()
        await store.save_run(run, timedelta(days=30))
        assert await store.get_run("run-1") == run
        assert await store.get_run("run-2") is None

    async def test_a_run_expires_after_its_ttl(
        self, store: RedisIncidentStore, redis: aioredis.Redis
    ) -> None:
        await store.save_run(make_run(), timedelta(days=30))
        assert 29 * 86400 < await redis.ttl(keys.playbook_run("run-1")) <= 30 * 86400


class TestInboxUnavailable:
    async def test_put_without_redis_is_store_unavailable(self) -> None:
        """The inbox says StoreUnavailable (not Redis's own error) when it cannot keep alerts."""
        dead = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
        alert = Alert(
            source="generic", dedup_key="k", status=AlertStatus.FIRING, severity=Severity.SEV2, summary="s"
        )
        try:
            with pytest.raises(StoreUnavailable):
                await AlertInbox(dead).put([alert])
        finally:
            await dead.aclose()


class TestConnect:
    async def test_connect_builds_every_store_on_one_client(
        self, redis_url: str, redis: aioredis.Redis
    ) -> None:
        """`connect(url)` gives working stores sharing one client; `aclose` closes it."""
        stores = connect(redis_url)
        try:
            assert await stores.ping()
            await stores.incidents.create(make_incident("INC-7"))
            await stores.snapshots.put("schema", "orders", {"id": "integer"})
            await stores.incidents.save_run(make_run("run-7"), timedelta(minutes=1))
            assert [e for e, _ in await stores.inbox.consume("c", None)] == []
            assert {
                stores.incidents.redis,
                stores.inbox._redis,
                stores.snapshots._redis,
            } == {stores.redis}
        finally:
            await stores.aclose()
        # Written where the url points: the test's own client reads them.
        assert await RedisIncidentStore(redis).get("INC-7")
        assert await RedisIncidentStore(redis).get_run("run-7") is not None

    async def test_stores_on_an_existing_client(self, redis: aioredis.Redis) -> None:
        stores = Stores.on(redis)
        assert stores.redis is redis
        assert await stores.ping()
