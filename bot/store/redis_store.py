"""IncidentStore on Redis: pydantic JSON documents, atomic multi-key writes by Lua, optimistic versions."""

from __future__ import annotations

import inspect
import random
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception_type, stop_after_attempt

from bot.domain.errors import Conflict, IncidentNotFound, LockFailed
from bot.domain.incident import Incident
from bot.domain.models import Asset, Severity, TimelineEntry
from bot.store import keys
from bot.store.base import Mutation
from bot.store.replicas import NO_WAIT, ReplicaWait, run_confirmed
from playbooks.results import PlaybookRun

# KEYS: incident, timeline, activity index of its severity, activity indexes of other severities (3)
# ARGV: expected version (-1 = must not exist), new version, document, active(1/0), activity score, entries...
_WRITE = """
local current = redis.call('HGET', KEYS[1], 'version')
local expected = tonumber(ARGV[1])
if current and tonumber(current) == tonumber(ARGV[2]) and redis.call('HGET', KEYS[1], 'doc') == ARGV[3] then
  return 1 -- this very write landed already: sent again after its answer was lost (a failover, a timeout)
end
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


# KEYS: the alert key, then the asset keys. ARGV: incident id, the assets' TTL in seconds.
_BIND = """
redis.call('SET', KEYS[1], ARGV[1])
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2]) end
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


class _ResentSafeLock(Lock):
    """A lock whose SET NX, sent again after its answer was lost (a failover), still sees it took the lock."""

    async def do_acquire(self, token: str | bytes) -> bool:
        timeout = int(self.timeout * 1000) if self.timeout else None
        held = await self.redis.set(self.name, token, nx=True, px=timeout, get=True)
        return held is None or held == token


class RedisIncidentStore:
    """The production store. One Redis hash per incident: `doc` (JSON) and `version`.

    Every write may be sent twice (redis-py re-sends a command whose connection was lost, reconnecting to the
    new master after a failover), so each is harmless when repeated: the versioned write recognises itself,
    and claims compare their own value. With `wait`, incident writes and alert bindings are confirmed by that
    many replicas before they return (else StoreUnavailable).
    """

    def __init__(self, redis: Redis, max_retries: int = 100, wait: ReplicaWait = NO_WAIT) -> None:
        self.redis = redis
        self.max_retries = max_retries
        self.wait = wait
        self._write = redis.register_script(_WRITE)
        self._bind = redis.register_script(_BIND)

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def next_id(self, now: datetime) -> str:
        seq = await self.redis.incr(keys.INCIDENT_SEQ)
        return f"INC-{seq:04d}"

    async def _put(self, incident: Incident, expected: int, entries: Sequence[TimelineEntry]) -> bool:
        others = [keys.open_by_activity(s) for s in Severity if s is not incident.severity]
        done = await run_confirmed(
            self.redis,
            self._write,
            [
                keys.incident(incident.id),
                keys.timeline(incident.id),
                keys.open_by_activity(incident.severity),
                *others,
                keys.ALL_INCIDENTS,
            ],
            [
                expected,
                incident.version,
                incident.model_dump_json(),
                "1" if incident.active else "0",
                _epoch(incident.last_activity_at),
                _epoch(incident.created_at),
                incident.id,
                *(e.model_dump_json() for e in entries),
            ],
            self.wait,
            f"Incident {incident.id} version {incident.version}",
            wrote=bool,
        )
        return bool(done)

    async def create(
        self, incident: Incident, entries: Sequence[TimelineEntry] = (), idempotency_key: str | None = None
    ) -> tuple[Incident, bool]:
        if idempotency_key is not None:
            key = keys.idempotency(idempotency_key)
            existing = _text(await self.redis.set(key, incident.id, nx=True, ex=86400, get=True))
            if existing is not None and existing != incident.id:  # our own id: this SET was sent twice
                return await self.get(existing), False
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
        await run_confirmed(
            self.redis,
            self._bind,
            [keys.alert_key(dedup_key), *(keys.asset_incident(str(a)) for a in assets)],
            [incident_id, _seconds(window)],
            self.wait,
            f"Alert {dedup_key} bound to {incident_id}",
        )

    async def incident_for_alert(self, dedup_key: str) -> str | None:
        return _text(await self.redis.get(keys.alert_key(dedup_key)))

    async def incident_for_asset(self, asset: Asset) -> str | None:
        return _text(await self.redis.get(keys.asset_incident(str(asset))))

    async def claim_once(self, token: str, ttl: timedelta) -> bool:
        mine = uuid.uuid4().hex  # ours alone: a claim sent twice finds its own value, not someone else's
        held = _text(await self.redis.set(keys.once(token), mine, nx=True, ex=_seconds(ttl), get=True))
        return held is None or held == mine

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
            keys.lock(name),
            timeout=lease.total_seconds(),
            blocking_timeout=wait.total_seconds(),
            lock_class=_ResentSafeLock,
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
