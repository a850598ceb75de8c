"""AlertInbox against a real Redis: put/consume/ack, reclaim after a crash, dead letters, the group."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bot.domain.alerts import Alert, AlertStatus
from bot.domain.models import Asset, AssetKind, Severity, Side
from bot.store import keys
from bot.store.alert_inbox import AlertInbox
from tests.alerts.conftest import REDIS_URL


def alert(key: str) -> Alert:
    return Alert(
        source="generic",
        dedup_key=key,
        status=AlertStatus.FIRING,
        severity=Severity.SEV2,
        summary=f"alert {key}",
        labels={"team": "mlops"},
        assets=(Asset(kind=AssetKind.MODEL, name="churn-model"),),
        side_hint=Side.MLOPS,
        details={"x": "y"},
    )


async def make_idle(redis: Redis, consumer: str, entry_ids: list[str], idle_ms: int) -> None:
    """Set the pending entries' idle time as if `consumer` had read them `idle_ms` ago, without waiting.

    XCLAIM by the same consumer with IDLE sets the idle time; JUSTID leaves the delivery count unchanged.
    """
    await redis.xclaim(keys.ALERT_STREAM, keys.ALERT_GROUP, consumer, 0, entry_ids, idle=idle_ms, justid=True)
    pending = await redis.xpending_range(keys.ALERT_STREAM, keys.ALERT_GROUP, "-", "+", len(entry_ids))
    assert all(p["time_since_delivered"] >= idle_ms for p in pending)
    assert all(p["times_delivered"] == 1 for p in pending)


class TestPutConsumeAck:
    async def test_round_trip(self, inbox: AlertInbox, redis: Redis) -> None:
        """Alerts come back equal and in order, each once; acked entries leave the pending list."""
        ids = await inbox.put([alert("a"), alert("b"), alert("c")])
        assert len(ids) == 3
        entries = await inbox.consume("worker-1", block_ms=None, count=10)
        assert [entry_id for entry_id, _ in entries] == ids
        assert [a for _, a in entries] == [alert("a"), alert("b"), alert("c")]
        assert await inbox.consume("worker-1", block_ms=None, count=10) == []
        assert (await redis.xpending(keys.ALERT_STREAM, keys.ALERT_GROUP))["pending"] == 3
        assert await inbox.ack(ids) == 3
        assert (await redis.xpending(keys.ALERT_STREAM, keys.ALERT_GROUP))["pending"] == 0

    async def test_values_are_pydantic_json(self, inbox: AlertInbox, redis: Redis) -> None:
        """The stream holds the alert as JSON text, never a pickle."""
        await inbox.put([alert("a")])
        ((_, fields),) = await redis.xrange(keys.ALERT_STREAM)
        assert Alert.model_validate_json(fields[b"alert"]) == alert("a")

    async def test_count_and_block(self, inbox: AlertInbox) -> None:
        """`count` bounds a read; a blocking read on an empty stream returns empty after `block_ms`."""
        await inbox.put([alert(str(i)) for i in range(5)])
        assert len(await inbox.consume("w", block_ms=None, count=2)) == 2
        assert len(await inbox.consume("w", block_ms=None, count=10)) == 3
        assert await inbox.consume("w", block_ms=20, count=10) == []

    async def test_blocking_read_wakes_on_put(self, inbox: AlertInbox) -> None:
        """A consumer blocked on the stream gets an alert put while it waits."""
        await inbox.ensure_group()
        waiting = asyncio.create_task(inbox.consume("w", block_ms=2000, count=10))
        await asyncio.sleep(0.05)
        await inbox.put([alert("late")])
        entries = await asyncio.wait_for(waiting, 2)
        assert [a.dedup_key for _, a in entries] == ["late"]

    async def test_empty_put_and_ack(self, inbox: AlertInbox, redis: Redis) -> None:
        """Nothing to put or ack touches nothing."""
        assert await inbox.put([]) == []
        assert await inbox.ack([]) == 0
        assert await redis.exists(keys.ALERT_STREAM) == 0


class TestReclaim:
    async def test_unacked_entry_is_reclaimed_by_another_consumer(self, inbox: AlertInbox) -> None:
        """A consumer that read but never acked (crashed): after min_idle, another consumer gets the entry."""
        (entry_id,) = await inbox.put([alert("a")])
        await inbox.consume("crashed", block_ms=None, count=10)
        assert await inbox.reclaim("replica-2", min_idle_ms=10_000) == []  # not idle long enough yet
        await asyncio.sleep(0.06)
        reclaimed = await inbox.reclaim("replica-2", min_idle_ms=50)
        assert reclaimed == [(entry_id, alert("a"))]
        await inbox.ack([entry_id])
        await asyncio.sleep(0.06)
        assert await inbox.reclaim("replica-3", min_idle_ms=50) == []

    async def test_reclaim_at_start_up_by_the_same_name(self, inbox: AlertInbox) -> None:
        """A restarted worker reclaims its own pending entries (min_idle 0), in order."""
        ids = await inbox.put([alert("a"), alert("b")])
        await inbox.consume("worker", block_ms=None, count=10)
        reclaimed = await inbox.reclaim("worker", min_idle_ms=0)
        assert [entry_id for entry_id, _ in reclaimed] == ids

    async def test_reclaim_pages_through_many(self, inbox: AlertInbox, redis: Redis) -> None:
        """`count` bounds one reclaim; the rest come with the next call."""
        ids = await inbox.put([alert(str(i)) for i in range(7)])
        await inbox.consume("crashed", block_ms=None, count=10)
        await make_idle(redis, "crashed", ids, idle_ms=600_000)  # as if "crashed" died ten minutes ago
        first = await inbox.reclaim("other", min_idle_ms=60_000, count=5)
        # Claiming resets an entry's idle time to 0: the next call takes the remaining two, not the same five
        # (those would have to sit unclaimed for a minute to qualify again, so no timing can mix them up).
        second = await inbox.reclaim("other", min_idle_ms=60_000, count=5)
        assert [e for e, _ in first] == ids[:5]
        assert [e for e, _ in second] == ids[5:]

    async def test_entry_delivered_too_often_is_dead_lettered(self, redis: Redis) -> None:
        """After `max_deliveries`, an entry that keeps failing moves to the dead-letter stream, acked."""
        inbox = AlertInbox(redis, max_deliveries=2)
        (entry_id,) = await inbox.put([alert("poison")])
        await inbox.consume("a", block_ms=None, count=1)  # delivery 1
        assert len(await inbox.reclaim("b", min_idle_ms=0)) == 1  # delivery 2
        assert await inbox.reclaim("c", min_idle_ms=0) == []  # delivery 3: buried
        ((_, fields),) = await redis.xrange(keys.ALERT_DEAD_LETTER)
        assert fields[b"entry_id"].decode() == entry_id
        assert fields[b"reason"] == b"too_many_deliveries"
        assert Alert.model_validate_json(fields[b"alert"]).dedup_key == "poison"
        assert (await redis.xpending(keys.ALERT_STREAM, keys.ALERT_GROUP))["pending"] == 0


class TestGroupAndDeadLetters:
    async def test_entries_put_before_the_group_exists_are_read(self, inbox: AlertInbox) -> None:
        """The group starts at id 0: alerts accepted before any consumer started are not skipped."""
        await inbox.put([alert("early")])
        await inbox.ensure_group()
        await inbox.ensure_group()  # idempotent
        entries = await inbox.consume("w", block_ms=None, count=10)
        assert [a.dedup_key for _, a in entries] == ["early"]

    async def test_group_is_recreated_if_the_stream_vanished(self, inbox: AlertInbox, redis: Redis) -> None:
        """A stream deleted under a running consumer (NOGROUP) is recreated instead of failing forever."""
        await inbox.ensure_group()
        await redis.delete(keys.ALERT_STREAM)
        assert await inbox.consume("w", block_ms=None, count=10) == []
        await inbox.put([alert("after")])
        assert [a.dedup_key for _, a in await inbox.consume("w", block_ms=None, count=10)] == ["after"]

    async def test_unreadable_entry_is_dead_lettered(self, inbox: AlertInbox, redis: Redis) -> None:
        """An entry that is not an Alert goes to the dead-letter stream, acked; the good ones are returned."""
        await inbox.ensure_group()
        await redis.xadd(keys.ALERT_STREAM, {"alert": "{not an alert"})
        await redis.xadd(keys.ALERT_STREAM, {"other": "field"})
        await inbox.put([alert("good")])
        entries = await inbox.consume("w", block_ms=None, count=10)
        assert [a.dedup_key for _, a in entries] == ["good"]
        dead = await redis.xrange(keys.ALERT_DEAD_LETTER)
        assert [f[b"reason"] for _, f in dead] == [b"unreadable", b"unreadable"]
        assert (await redis.xpending(keys.ALERT_STREAM, keys.ALERT_GROUP))["pending"] == 1

    @pytest.mark.parametrize(("decode", "protocol"), [(True, 2), (False, 3), (True, 3)])
    async def test_other_client_settings(self, redis: Redis, decode: bool, protocol: int) -> None:
        """Clients decoding responses to text, or speaking RESP3, work the same."""
        text = Redis.from_url(REDIS_URL, decode_responses=decode, protocol=protocol)
        try:
            inbox = AlertInbox(text)
            ids = await inbox.put([alert("a")])
            entries = await inbox.consume("w", block_ms=None, count=10)
            assert entries == [(ids[0], alert("a"))]
            assert await inbox.reclaim("w2", min_idle_ms=0) == [(ids[0], alert("a"))]
        finally:
            await text.aclose()
