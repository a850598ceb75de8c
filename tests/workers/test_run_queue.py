"""The run queue on Redis: claimed once, leased, taken over when the lease lapses, renewed only by its holder."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.base import RunRequest
from bot.store.run_queue import RedisRunQueue


def _request(n: int = 1) -> RunRequest:
    return RunRequest(run_id=f"run-{n}", incident_id="INC-0001", playbook="p", user_id=None)


class TestRunQueue:
    async def test_each_request_is_handed_out_once(self, redis: aioredis.Redis) -> None:
        queue = RedisRunQueue(redis)
        await queue.enqueue(_request(1))
        await queue.enqueue(_request(2))
        first = await queue.claim("a", 1, None)
        second = await queue.claim("b", 5, None)
        assert [c.request for c in first + second] == [_request(1), _request(2)]
        assert not any(c.resumed for c in first + second)
        assert await queue.claim("c", 5, None) == []

    async def test_a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_renew(
        self, redis: aioredis.Redis
    ) -> None:
        queue = RedisRunQueue(redis)
        await queue.enqueue(_request())
        (held,) = await queue.claim("dead", 1, None)
        assert await queue.reclaim("other", 60_000, 5) == []  # still within its lease
        await asyncio.sleep(0.05)
        (taken,) = await queue.reclaim("other", 10, 5)
        assert taken.resumed
        assert taken.deliveries == 2
        assert taken.request == held.request
        assert not await queue.renew("dead", held.entry_id)
        assert await queue.renew("other", held.entry_id)
        await queue.ack(held.entry_id)
        assert not await queue.renew("other", held.entry_id)
        assert await queue.reclaim("third", 0, 5) == []

    async def test_renewing_keeps_the_lease(self, redis: aioredis.Redis) -> None:
        queue = RedisRunQueue(redis)
        await queue.enqueue(_request())
        (held,) = await queue.claim("a", 1, None)
        await asyncio.sleep(0.05)
        assert await queue.renew("a", held.entry_id)
        assert await queue.reclaim("b", 40, 5) == []

    async def test_an_unreadable_request_is_dropped(self, redis: aioredis.Redis) -> None:
        queue = RedisRunQueue(redis)
        await redis.xadd(keys.RUN_QUEUE, {"run": "{not json"})
        await queue.enqueue(_request())
        claimed = await queue.claim("a", 5, None)
        assert [c.request for c in claimed] == [_request()]
        assert await redis.xlen(keys.RUN_QUEUE) == 1  # the unreadable one acked and deleted

    async def test_the_progress_message_is_remembered(self, redis: aioredis.Redis) -> None:
        from datetime import timedelta

        queue = RedisRunQueue(redis)
        assert await queue.message_of("run-1") is None
        await queue.remember_message("run-1", "1700000000.000100", timedelta(minutes=5))
        assert await queue.message_of("run-1") == "1700000000.000100"
