"""The store objects on one Redis connection, built in one place: the composition root's and the CLI's."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.store.alert_inbox import AlertInbox
from bot.store.connection import RedisClients, RedisSettings, redis_from_settings, replica_wait
from bot.store.redis_store import RedisIncidentStore
from bot.store.replicas import NO_WAIT, ReplicaWait
from bot.store.run_queue import RedisRunQueue
from bot.store.snapshots import RedisSnapshotStore


@dataclass(frozen=True)
class Stores:
    """Every store the bot uses, sharing one connection pool; `aclose` closes it."""

    redis: Redis  # for the composition root's health check and shutdown only; services get the stores
    incidents: RedisIncidentStore
    inbox: AlertInbox
    snapshots: RedisSnapshotStore
    runs: RedisRunQueue
    sentinels: tuple[Redis, ...] = ()  # the Sentinel clients behind `redis`, closed with it

    @classmethod
    def on(cls, redis: Redis, wait: ReplicaWait = NO_WAIT, sentinels: tuple[Redis, ...] = ()) -> Stores:
        """The stores on an existing client (whoever made it closes it).

        With `wait`, accepted alerts, alert bindings and incident writes are confirmed by that many replicas
        before they count as kept (docs/operations.md, "High availability").
        """
        return cls(
            redis=redis,
            incidents=RedisIncidentStore(redis, wait=wait),
            inbox=AlertInbox(redis, wait=wait),
            snapshots=RedisSnapshotStore(redis),
            runs=RedisRunQueue(redis),
            sentinels=sentinels,
        )

    async def ping(self) -> bool:
        return await self.incidents.ping()

    async def aclose(self) -> None:
        await RedisClients(self.redis, self.sentinels).aclose()


def connect(url: str) -> Stores:
    """The stores on a new client for `url` (redis://host:port/db); close them with `aclose`.

    Nothing is sent until the first command: an unreachable Redis shows up there, not here.
    """
    return Stores.on(Redis.from_url(url))


def connect_settings(settings: RedisSettings, redis: Redis | None = None) -> Stores:
    """The stores as the settings say: REDIS_URL or the Sentinels' master, REDIS_WAIT_* for confirmed writes.

    `redis`, when given, is used instead of a new client (tests); the WAIT option still applies.
    """
    if redis is not None:
        return Stores.on(redis, replica_wait(settings))
    clients = redis_from_settings(settings)
    return Stores.on(clients.master, replica_wait(settings), clients.sentinels)
