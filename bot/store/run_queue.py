"""RunQueue on Redis: playbook run requests in a stream read through one consumer group of workers."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.domain.errors import StoreUnavailable
from bot.store import keys
from bot.store.base import ClaimedRun, RunRequest
from bot.store.streams import ConsumerGroup

FIELD = "run"

# Renew a lease only while this consumer still holds the entry: XCLAIM with JUSTID resets its idle time
# without counting a delivery, but would also steal it back from a worker that took it over.
# KEYS: stream. ARGV: group, consumer, entry id.
_RENEW = """
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _request(fields: dict[Any, Any]) -> RunRequest | None:
    raw = fields.get(FIELD, fields.get(FIELD.encode()))
    try:
        data = json.loads(raw if isinstance(raw, bytes | str) else "")
        return RunRequest(
            run_id=str(data["run_id"]),
            incident_id=str(data["incident_id"]),
            playbook=str(data["playbook"]),
            user_id=data.get("user_id"),
        )
    except (TypeError, ValueError, KeyError):
        return None


class RedisRunQueue:
    """Requests are stream entries; a claimed entry is pending for its worker, whose idle time is its lease.

    An entry that cannot be read is acked and dropped (it could never run). Acked entries are deleted.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        stream: str = keys.RUN_QUEUE,
        group: str = keys.RUN_GROUP,
        maxlen: int = 100_000,
    ) -> None:
        self._redis = redis
        self.stream = stream
        self.group = group
        self.maxlen = maxlen
        self._group = ConsumerGroup(redis, stream, group)
        self._renew = redis.register_script(_RENEW)

    async def enqueue(self, request: RunRequest) -> str:
        body = json.dumps(
            {
                "run_id": request.run_id,
                "incident_id": request.incident_id,
                "playbook": request.playbook,
                "user_id": request.user_id,
            }
        )
        try:
            entry = await self._redis.xadd(self.stream, {FIELD: body}, maxlen=self.maxlen, approximate=True)
        except RedisError as exc:
            raise StoreUnavailable(f"The playbook run could not be queued: {exc}") from exc
        return _text(entry)

    async def claim(self, consumer: str, count: int, block_ms: int | None) -> list[ClaimedRun]:
        reply = await self._group.run(
            lambda: self._redis.xreadgroup(self.group, consumer, {self.stream: ">"}, count, block_ms)
        )
        messages: list[Any] = []
        for _stream, entries in reply.items() if isinstance(reply, dict) else reply or []:
            messages.extend(entries[0] if entries and isinstance(entries[0], list) else entries)
        return await self._decode(messages, {})

    async def reclaim(self, consumer: str, idle_ms: int, count: int) -> list[ClaimedRun]:
        reply = await self._group.run(
            lambda: self._redis.xautoclaim(
                self.stream, self.group, consumer, min_idle_time=idle_ms, start_id="0-0", count=count
            )
        )
        entries = [e for e in reply[1] if e and e[1] is not None]
        if not entries:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id, _ in entries:
                pipe.xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1)
            pending = await pipe.execute()
        deliveries = {_text(p["message_id"]): int(p["times_delivered"]) for reply in pending for p in reply}
        return await self._decode(entries, deliveries)

    async def renew(self, consumer: str, entry_id: str) -> bool:
        return bool(await self._renew([self.stream], [self.group, consumer, entry_id]))

    async def ack(self, entry_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            await pipe.execute()

    async def remember_message(self, run_id: str, ts: str, ttl: timedelta) -> None:
        await self._redis.set(keys.run_message(run_id), ts, ex=max(1, int(ttl.total_seconds())))

    async def message_of(self, run_id: str) -> str | None:
        ts = await self._redis.get(keys.run_message(run_id))
        return None if ts is None else _text(ts)

    async def _decode(self, messages: list[Any], deliveries: dict[str, int]) -> list[ClaimedRun]:
        out: list[ClaimedRun] = []
        for raw_id, fields in messages:
            entry_id = _text(raw_id)
            request = _request(fields or {})
            if request is None:
                await self.ack(entry_id)
                continue
            seen = deliveries.get(entry_id, 1)
            out.append(ClaimedRun(entry_id, request, seen, resumed=bool(deliveries)))
        return out
