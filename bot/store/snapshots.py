"""The playbooks' snapshot store in Redis: one JSON string per snapshot, under the keys of keys.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bot.store import keys

_KEYS: dict[str, Callable[[str], str]] = {
    "schema": keys.schema_snapshot,
    "model_aliases": keys.model_aliases_snapshot,
}


class RedisSnapshotStore:
    """Implements playbooks.snapshots.SnapshotStore; values are JSON objects, never pickles."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @staticmethod
    def key(kind: str, name: str) -> str:
        try:
            return _KEYS[kind](name)
        except KeyError:
            raise ValueError(f"unknown snapshot kind {kind!r}") from None

    async def get(self, kind: str, name: str) -> dict[str, Any] | None:
        raw = await self._redis.get(self.key(kind, name))
        if raw is None:
            return None
        value = json.loads(raw)
        return value if isinstance(value, dict) else None

    async def put(self, kind: str, name: str, value: dict[str, Any]) -> None:
        await self._redis.set(self.key(kind, name), json.dumps(value, separators=(",", ":"), sort_keys=True))
