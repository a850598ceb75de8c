"""IncidentStore on Redis: pydantic JSON documents, atomic multi-key writes by Lua, optimistic versions."""

from __future__ import annotations

import inspect
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import LockError
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception_type, stop_after_attempt

from bot.domain.errors import Conflict, IncidentNotFound, LockFailed
from bot.domain.incident import Incident
from bot.domain.models import Asset, Severity, TimelineEntry
from bot.store import keys
from bot.store.base import Mutation
from playbooks.results import PlaybookRun

# KEYS: incident, timeline, activity index of its severity, activity indexes of other severities (3)
# ARGV: expected version (-1 = must not exist), new version, document, active(1/0), activity score, entries...
_WRITE = """
local current = redis.call('HGET', KEYS[1], 'version')
local expected = tonumber(ARGV[1])
if expected == -1 then
  if current then return 0 end
elseif (not current) or tonumber(current) ~= expected then
  return 0
end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'doc', ARGV[3])
for i = 4, 6 do redis.call('ZREM', KEYS[i], ARGV[7]) end
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[7])
else
  redis.call('ZREM', KEYS[3], ARGV[7])
end
redis.call('ZADD', KEYS[7], ARGV[6], ARGV[7])
for i = 8, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
return 1
"""


CONFLICT_BACKOFF = 0.002  # seconds: the n-th retry after a conflict waits a random 0 to n times this


def _epoch(dt: datetime) -> float:
    return dt.timestamp()


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _seconds(ttl: timedelta) -> int:
    return max(1, int(ttl.total_seconds()))


def _conflict_backoff(state: RetryCallState) -> float:
    # Jittered and growing: writers contending for one incident spread out instead of colliding again.
    return random.uniform(0, CONFLICT_BACKOFF * state.attempt_number)


class RedisIncidentStore:
    """The production store. One Redis hash per incident: `doc` (JSON) and `version`."""

    def __init__(self, redis: Redis, max_retries: int = 100) -> None:
        self.redis = redis
        self.max_retries = max_retries
        self._write = redis.register_script(_WRITE)

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def next_id(self, now: datetime) -> str:
        seq = await self.redis.incr(keys.INCIDENT_SEQ)
        return f"INC-{seq:04d}"

    async def _put(self, incident: Incident, expected: int, entries: Sequence[TimelineEntry]) -> bool:
        others = [keys.open_by_activity(s) for s in Severity if s is not incident.severity]
        done = await self._write(
            keys=[
                keys.incident(incident.id),
                keys.timeline(incident.id),
                keys.open_by_activity(incident.severity),
                *others,
                keys.ALL_INCIDENTS,
            ],
            args=[
                expected,
                incident.version,
                incident.model_dump_json(),
                "1" if incident.active else "0",
                _epoch(incident.last_activity_at),
                _epoch(incident.created_at),
                incident.id,
                *(e.model_dump_json() for e in entries),
            ],
        )
        return bool(done)

    async def create(
        self, incident: Incident, entries: Sequence[TimelineEntry] = (), idempotency_key: str | None = None
    ) -> tuple[Incident, bool]:
        if idempotency_key is not None:
            claimed = await self.redis.set(keys.idempotency(idempotency_key), incident.id, nx=True, ex=86400)
            if not claimed:
                existing = await cast(Any, self.redis.get(keys.idempotency(idempotency_key)))
                return await self.get(
                    existing.decode() if isinstance(existing, bytes) else str(existing)
                ), False
        stored = incident.model_copy(update={"version": 1})
        if not await self._put(stored, -1, entries):
            raise Conflict(incident.id, 0)
        return stored, True

    async def get(self, incident_id: str) -> Incident:
        doc = await cast(Any, self.redis.hget(keys.incident(incident_id), "doc"))
        if doc is None:
            raise IncidentNotFound(incident_id)
        return Incident.model_validate_json(doc)

    async def find_by_channel(self, channel_id: str) -> Incident | None:
        incident_id = await self.redis.get(keys.by_channel(channel_id))
        if incident_id is None:
            return None
        return await self.get(incident_id.decode() if isinstance(incident_id, bytes) else str(incident_id))

    async def update(self, incident: Incident, entries: Sequence[TimelineEntry] = ()) -> Incident:
        stored = incident.model_copy(update={"version": incident.version + 1})
        if not await self._put(stored, incident.version, entries):
            raise Conflict(incident.id, incident.version)
        return stored

    async def mutate(
        self,
        incident_id: str,
        change: Mutation,
        entries: Callable[[Incident, Incident], Sequence[TimelineEntry]] = lambda _b, _a: (),
    ) -> tuple[Incident, Incident]:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries),
            wait=_conflict_backoff,
            retry=retry_if_exception_type(Conflict),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._mutate_once(incident_id, change, entries)
        except RetryError:
            raise Conflict(incident_id, -1) from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _mutate_once(
        self,
        incident_id: str,
        change: Mutation,
        entries: Callable[[Incident, Incident], Sequence[TimelineEntry]],
    ) -> tuple[Incident, Incident]:
        before = await self.get(incident_id)
        result = change(before)
        after = await result if inspect.isawaitable(result) else result
        if after is before or after == before:
            return before, before
        written = after.model_copy(update={"version": before.version})
        return before, await self.update(written, entries(before, after))

    async def timeline(self, incident_id: str) -> list[TimelineEntry]:
        raw = await cast(Any, self.redis.lrange(keys.timeline(incident_id), 0, -1))
        return [TimelineEntry.model_validate_json(r) for r in raw]

    async def _many(self, ids: Sequence[bytes | str]) -> list[Incident]:
        if not ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for i in ids:
            pipe.hget(keys.incident(i.decode() if isinstance(i, bytes) else i), "doc")
        docs = await pipe.execute()
        return [Incident.model_validate_json(d) for d in docs if d is not None]

    async def list_active(self, limit: int = 100) -> list[Incident]:
        ids: list[bytes | str] = []
        for sev in Severity:
            ids.extend(await self.redis.zrange(keys.open_by_activity(sev), 0, limit - 1))
        found = await self._many(ids)
        return sorted(found, key=lambda i: (i.severity.value, i.created_at))[:limit]

    async def stale(
        self, severity: Severity, idle_for: timedelta, now: datetime, limit: int = 500
    ) -> list[Incident]:
        cutoff = _epoch(now - idle_for)
        ids = await self.redis.zrangebyscore(
            keys.open_by_activity(severity), "-inf", cutoff, start=0, num=limit
        )
        return await self._many(ids)

    async def bind_channel(self, channel_id: str, incident_id: str) -> None:
        await self.redis.set(keys.by_channel(channel_id), incident_id)

    async def bind_alert(
        self, incident_id: str, dedup_key: str, assets: Sequence[Asset], window: timedelta
    ) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.alert_key(dedup_key), incident_id)
        for asset in assets:
            pipe.set(keys.asset_incident(str(asset)), incident_id, ex=_seconds(window))
        await pipe.execute()

    async def incident_for_alert(self, dedup_key: str) -> str | None:
        return _text(await self.redis.get(keys.alert_key(dedup_key)))

    async def incident_for_asset(self, asset: Asset) -> str | None:
        return _text(await self.redis.get(keys.asset_incident(str(asset))))

    async def claim_once(self, token: str, ttl: timedelta) -> bool:
        return bool(await self.redis.set(keys.once(token), "1", nx=True, ex=_seconds(ttl)))

    async def release(self, token: str) -> None:
        await self.redis.delete(keys.once(token))

    async def extend(self, token: str, ttl: timedelta) -> bool:
        return bool(await self.redis.set(keys.once(token), "1", xx=True, ex=_seconds(ttl)))

    async def save_run(self, run: PlaybookRun, ttl: timedelta) -> None:
        await self.redis.set(keys.playbook_run(run.run_id), run.model_dump_json(), ex=_seconds(ttl))

    async def get_run(self, run_id: str) -> PlaybookRun | None:
        raw = await self.redis.get(keys.playbook_run(run_id))
        return None if raw is None else PlaybookRun.model_validate_json(raw)

    @asynccontextmanager
    async def lock(self, name: str, *, lease: timedelta, wait: timedelta) -> AsyncIterator[None]:
        held = self.redis.lock(
            keys.lock(name), timeout=lease.total_seconds(), blocking_timeout=wait.total_seconds()
        )
        try:
            taken = await held.acquire()
        except LockError as exc:
            raise LockFailed(name, "not taken") from exc
        if not taken:
            raise LockFailed(name, f"not taken within {wait.total_seconds():g} s")
        try:
            yield
        finally:
            try:
                await held.release()
            except LockError as exc:
                raise LockFailed(name, "lapsed before it was released") from exc
