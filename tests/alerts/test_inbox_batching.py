"""AlertInbox group commit against a real Redis: concurrent puts share script runs, each gets its own ids, all or
none per batch, and a failed batch fails every put in it."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bot.domain.errors import StoreUnavailable
from bot.store import keys
from bot.store.alert_inbox import MAX_BATCH_ALERTS, AlertInbox
from tests.alerts.test_inbox import alert


class TestGroupCommit:
    async def test_concurrent_puts_each_get_their_own_entries(self, inbox: AlertInbox, redis: Redis) -> None:
        """50 puts at once (1 to 3 alerts each): every put gets the ids of its own alerts, in order."""
        batches = [[alert(f"p{i}-{j}") for j in range(1 + i % 3)] for i in range(50)]
        results = await asyncio.gather(*(inbox.put(b) for b in batches))
        assert [len(ids) for ids in results] == [len(b) for b in batches]
        entries = dict(await inbox.consume("c", count=1000))
        assert len(entries) == sum(len(b) for b in batches)
        for batch, ids in zip(batches, results, strict=True):
            assert [entries[i].dedup_key for i in ids] == [a.dedup_key for a in batch]
        assert await redis.xlen(keys.ALERT_STREAM) == len(entries)

    async def test_more_than_one_batch_holds(self, inbox: AlertInbox) -> None:
        """Puts beyond the batch cap are split over several script runs; none is lost or duplicated."""
        puts = [[alert(f"big{i}-{j}") for j in range(7)] for i in range(2 * MAX_BATCH_ALERTS // 7 + 3)]
        results = await asyncio.gather(*(inbox.put(p) for p in puts))
        flat = [i for ids in results for i in ids]
        assert len(flat) == len(set(flat)) == sum(len(p) for p in puts)

    async def test_a_failed_batch_fails_every_put_in_it(self, redis: Redis) -> None:
        """Redis refuses the script (the stream key holds a string): each waiting put is StoreUnavailable."""
        await redis.set("not-a-stream", "x")
        inbox = AlertInbox(redis, stream="not-a-stream")
        results = await asyncio.gather(
            *(inbox.put([alert(f"f{i}")]) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, StoreUnavailable) for r in results), results
        # The writer is not stuck: a later put on a good stream goes through.
        await redis.delete("not-a-stream")
        assert len(await inbox.put([alert("after")])) == 1

    async def test_a_cancelled_put_does_not_fail_the_others(self, inbox: AlertInbox) -> None:
        first = asyncio.ensure_future(inbox.put([alert("cancelled")]))
        second = asyncio.ensure_future(inbox.put([alert("kept")]))
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert len(await second) == 1
