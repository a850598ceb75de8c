"""The store objects on one Redis connection, built in one place: the composition root's and the CLI's."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.store.alert_inbox import AlertInbox
from bot.store.redis_store import RedisIncidentStore
from bot.store.snapshots import RedisSnapshotStore


@dataclass(frozen=True)
class Stores:
    """Every store the bot uses, sharing one connection pool; `aclose` closes it."""

    redis: Redis  # for the composition root's health check and shutdown only; services get the stores
    incidents: RedisIncidentStore
    inbox: AlertInbox
    snapshots: RedisSnapshotStore

    @classmethod
    def on(cls, redis: Redis) -> Stores:
        """The stores on an existing client (whoever made it closes it)."""
        return cls(
            redis=redis,
            incidents=RedisIncidentStore(redis),
            inbox=AlertInbox(redis),
            snapshots=RedisSnapshotStore(redis),
        )

    async def ping(self) -> bool:
        return await self.incidents.ping()

    async def aclose(self) -> None:
        await self.redis.aclose()


def connect(url: str) -> Stores:
    """The stores on a new client for `url` (redis://host:port/db); close them with `aclose`.

    Nothing is sent until the first command: an unreachable Redis shows up there, not here.
    """
    return Stores.on(Redis.from_url(url))
