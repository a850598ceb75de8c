"""A Redis stream's consumer group, created on first use and recreated if the stream lost it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import ResponseError

T = TypeVar("T")


class ConsumerGroup:
    """The group `group` on `stream`; `run` makes sure it exists before (and after losing it during) a command."""

    def __init__(self, redis: Redis, stream: str, group: str) -> None:
        self._redis, self.stream, self.group = redis, stream, group
        self._ready = False

    async def ensure(self) -> None:
        """Create the stream and the group if missing; from id 0, so entries added before count too."""
        try:
            await self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._ready = True

    async def run(self, command: Callable[[], Awaitable[T]]) -> T:
        """`command()`, with the group in place; a stream deleted under us is recreated once and retried."""
        if not self._ready:
            await self.ensure()
        try:
            return await command()
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self.ensure()
            return await command()
