"""AlertInbox: the durable queue of accepted alerts, a Redis Stream read through a consumer group."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from functools import partial
from typing import Any

import structlog
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.domain.alerts import Alert
from bot.domain.errors import StoreUnavailable
from bot.store import keys
from bot.store.replicas import NO_WAIT, ReplicaWait, run_confirmed
from bot.store.streams import ConsumerGroup

log = structlog.get_logger("handoff.alerts.inbox")

FIELD = "alert"  # the entry field holding the alert as pydantic JSON
Entry = tuple[str, Alert]

# One XADD per alert in a single script: atomic like MULTI/EXEC, and about half the client-side cost under
# load (one command to pack and parse instead of N + 2).
PUT_SCRIPT = """
local ids = {}
for i = 2, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'alert', ARGV[i])
end
return ids
"""


# Puts that arrive while a write is in flight are sent together in the next script run ("group commit"): under
# load, one round trip keeps the alerts of many requests instead of one each. A batch holds at most this many.
MAX_BATCH_ALERTS = 500


class _Batch:
    """Alerts of several puts, written in one script run; each put waits on its own future for its ids."""

    __slots__ = ("payloads", "waiters")

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.waiters: list[tuple[int, int, asyncio.Future[list[str]]]] = []  # (start, count, future)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _field(fields: dict[Any, Any], name: str) -> bytes | str | None:
    value = fields.get(name, fields.get(name.encode()))
    return value if isinstance(value, bytes | str) else None


def _failure(exc: BaseException, count: int) -> BaseException:
    """What a put whose batch failed raises: StoreUnavailable for Redis errors (and a cancelled write)."""
    if isinstance(exc, StoreUnavailable):
        return exc
    if isinstance(exc, RedisError | asyncio.CancelledError):
        return StoreUnavailable(
            f"The alert inbox could not keep {count} alert(s): {exc or type(exc).__name__}"
        )
    return exc


class AlertInbox:
    """Accepted alerts, each kept until a consumer acks it; entries a dead consumer held are reclaimed.

    Delivery is at least once: a consumer that crashes between `consume` and `ack` leaves its entries
    pending, and `reclaim` (at start-up, or by another replica) hands them out again. An entry that cannot
    be read, or that was delivered more than `max_deliveries` times, moves to the dead-letter stream.
    The stream is trimmed approximately to `maxlen` entries; size it well above the largest backlog.
    With `wait`, `put` returns only once that many replicas hold the alerts (else StoreUnavailable).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        stream: str = keys.ALERT_STREAM,
        group: str = keys.ALERT_GROUP,
        dead_letter: str = keys.ALERT_DEAD_LETTER,
        maxlen: int = 100_000,
        max_deliveries: int = 5,
        wait: ReplicaWait = NO_WAIT,
    ) -> None:
        self._redis = redis
        self.stream = stream
        self.group = group
        self.dead_letter = dead_letter
        self.maxlen = maxlen
        self.max_deliveries = max_deliveries
        self.wait = wait
        self._group = ConsumerGroup(redis, stream, group)
        self._put_script = redis.register_script(PUT_SCRIPT)
        self._batches: deque[_Batch] = deque()  # waiting to be written, oldest first
        self._open: _Batch | None = None  # the newest waiting batch, which further puts join
        self._writer: asyncio.Task[None] | None = None

    async def ensure_group(self) -> None:
        """Create the stream and its consumer group if missing; from id 0, so earlier entries are read too."""
        await self._group.ensure()

    async def put(self, alerts: Sequence[Alert]) -> list[str]:
        """Append the alerts (all or none); their entry ids, in order, once Redis has kept them.

        StoreUnavailable when Redis could not be reached or refused them, or too few replicas confirmed
        them: treat them as not kept (the sender retries; a duplicate is deduplicated by its key).
        Puts made while another write is in flight share the next script run (one round trip for all;
        the script appends every alert of the batch or fails for all of them).
        """
        if not alerts:
            return []
        payloads = [a.model_dump_json() for a in alerts]
        loop = asyncio.get_running_loop()
        batch = self._open
        if batch is None or len(batch.payloads) + len(payloads) > MAX_BATCH_ALERTS:
            batch = self._open = _Batch()
            self._batches.append(batch)
        done: asyncio.Future[list[str]] = loop.create_future()
        batch.waiters.append((len(batch.payloads), len(payloads), done))
        batch.payloads.extend(payloads)
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write_batches())
        return await done

    async def _write_batches(self) -> None:
        while self._batches:
            batch = self._batches.popleft()
            if batch is self._open:
                self._open = None
            try:
                ids = await self._write(batch.payloads)
            except BaseException as exc:
                for _, count, done in batch.waiters:
                    if not done.done():
                        done.set_exception(_failure(exc, count))
                if not isinstance(exc, Exception):
                    raise
                continue
            for start, count, done in batch.waiters:
                if not done.done():
                    done.set_result(ids[start : start + count])

    async def _write(self, payloads: list[str]) -> list[str]:
        ids = await run_confirmed(
            self._redis,
            self._put_script,
            [self.stream],
            [self.maxlen, *payloads],
            self.wait,
            f"{len(payloads)} alert(s)",
        )
        return [_text(i) for i in ids]

    async def consume(self, consumer_name: str, block_ms: int | None = None, count: int = 100) -> list[Entry]:
        """Up to `count` entries never delivered before, waiting up to `block_ms` (None: not at all).

        Each stays pending for `consumer_name` until acked.
        """
        reply = await self._group.run(
            partial(self._redis.xreadgroup, self.group, consumer_name, {self.stream: ">"}, count, block_ms)
        )
        messages: list[Any] = []
        # RESP2 answers [[stream, entries]]; RESP3 (protocol=3) answers {stream: [entries]}.
        for _stream, entries in reply.items() if isinstance(reply, dict) else reply or []:
            messages.extend(entries[0] if entries and isinstance(entries[0], list) else entries)
        return await self._decode(messages)

    async def ack(self, entry_ids: Sequence[str]) -> int:
        """Mark entries processed; how many were pending."""
        if not entry_ids:
            return 0
        return int(await self._redis.xack(self.stream, self.group, *entry_ids))

    async def reclaim(self, consumer_name: str, min_idle_ms: int, count: int = 100) -> list[Entry]:
        """Take over entries pending longer than `min_idle_ms` for any consumer (XAUTOCLAIM), up to `count`.

        Entries delivered more than `max_deliveries` times are dead-lettered instead of returned.
        """
        claimed: list[Any] = []
        start: Any = "0-0"
        while len(claimed) < count:
            reply = await self._group.run(
                partial(
                    self._redis.xautoclaim,
                    self.stream,
                    self.group,
                    consumer_name,
                    min_idle_time=min_idle_ms,
                    start_id=start,
                    count=count - len(claimed),
                )
            )
            start, entries = reply[0], reply[1]
            claimed.extend(e for e in entries if e and e[1] is not None)
            if _text(start) == "0-0":
                break
        if not claimed:
            return []
        exhausted = await self._over_delivered([_text(e[0]) for e in claimed])
        for entry_id, fields in claimed:
            if _text(entry_id) in exhausted:
                await self._bury(_text(entry_id), _field(fields, FIELD), "too_many_deliveries")
        return await self._decode([e for e in claimed if _text(e[0]) not in exhausted])

    async def _over_delivered(self, entry_ids: list[str]) -> set[str]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in entry_ids:
                pipe.xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1)
            replies = await pipe.execute()
        return {
            _text(p["message_id"])
            for reply in replies
            for p in reply
            if int(p["times_delivered"]) > self.max_deliveries
        }

    async def _decode(self, messages: list[Any]) -> list[Entry]:
        out: list[Entry] = []
        for raw_id, fields in messages:
            entry_id, raw = _text(raw_id), _field(fields or {}, FIELD)
            try:
                if raw is None:
                    raise ValueError("no alert field")
                out.append((entry_id, Alert.model_validate_json(raw)))
            except (ValidationError, ValueError):
                await self._bury(entry_id, raw, "unreadable")
        return out

    async def _bury(self, entry_id: str, raw: bytes | str | None, reason: str) -> None:
        """Move an entry to the dead-letter stream and ack it, in one transaction."""
        log.error("alert_dead_lettered", entry_id=entry_id, reason=reason, stream=self.stream)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.dead_letter,
                {"entry_id": entry_id, "reason": reason, FIELD: raw or ""},
                maxlen=self.maxlen,
                approximate=True,
            )
            pipe.xack(self.stream, self.group, entry_id)
            await pipe.execute()
