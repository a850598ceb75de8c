"""The one place a Redis client is made from settings: a plain URL, or the master that Sentinels name.

With Sentinels, every connection asks them for the master's address when it (re)connects, so after a
failover the next command reaches the new master: a command that loses its connection (the old master died)
or that the old master refuses (it came back as a replica: redis-py turns READONLY into a connection error)
is retried, reconnecting through the Sentinels, for up to REDIS_RETRY_SECONDS. Only then does it fail, as
StoreUnavailable where the caller answers for it (the alert webhook's 503) or as the redis error elsewhere
(the alert consumer and the reminder ticks log it and try again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import SecretStr
from redis.asyncio import Redis
from redis.asyncio.connection import SSLConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelManagedConnection
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import RedisError

from bot.store.replicas import ReplicaWait

T = TypeVar("T")

SENTINEL_TIMEOUT = 2.0  # seconds for one question to one Sentinel; a dead one is skipped, not retried
CONNECT_TIMEOUT = 2.0  # seconds to open a connection to the master
SOCKET_TIMEOUT = 5.0  # seconds a command may go unanswered (a hung master) before it counts as lost


class RedisSettings(Protocol):
    """What the factory reads; bot.settings.Settings has all of it (bot.store does not import the settings)."""

    @property
    def redis_url(self) -> str: ...
    @property
    def redis_sentinel_master(self) -> str | None: ...
    @property
    def redis_sentinel_password(self) -> SecretStr | None: ...
    @property
    def redis_password(self) -> SecretStr | None: ...
    @property
    def redis_ssl(self) -> bool: ...
    @property
    def redis_ssl_ca_certs(self) -> Path | None: ...
    @property
    def redis_wait_replicas(self) -> int: ...
    @property
    def redis_wait_timeout_ms(self) -> int: ...
    @property
    def redis_retry_seconds(self) -> float: ...
    @property
    def sentinel_nodes(self) -> list[tuple[str, int]]: ...


class FailoverRetry(Retry):
    """Retry connection errors and timeouts with jittered backoff (50 ms growing to 0.5 s) for `budget` s.

    Bounded by time rather than by count: a failover lasts as long as the Sentinels take to agree, and a
    refused connection fails in microseconds. redis-py uses the same policy for reconnecting inside a retried
    command, so a command gives up after at most about twice the budget.
    """

    def __init__(self, budget: float) -> None:
        super().__init__(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=-1)
        self.budget = budget

    async def call_with_retry(self, do: Callable[[], Awaitable[T]], fail: Callable[[RedisError], Any]) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        failures = 0
        while True:
            try:
                return await do()
            except self._supported_errors as error:
                failures += 1
                await fail(error)
                left = deadline - loop.time()
                if left <= 0:
                    raise
                await asyncio.sleep(min(left, self._backoff.compute(failures)))


class MasterConnection(SentinelManagedConnection):
    """A connection to whatever master the Sentinels name *now*, also when it reconnects inside a command.

    redis-py (6.4, redis/redis-py#3874) asks the Sentinels only in `connect()`; a command retried after its
    connection dropped reconnects through `connect_check_health`, to the old master's address, until its
    retries run out. Here that path goes through `connect()` too.
    """

    async def connect_check_health(
        self, check_health: bool = True, retry_socket_connect: bool = True
    ) -> None:
        if retry_socket_connect:  # the generic reconnect, not `connect_to` (which passes False)
            await self.connect()  # type: ignore[no-untyped-call]
            return
        await super().connect_check_health(check_health=check_health, retry_socket_connect=False)


class MasterSSLConnection(MasterConnection, SSLConnection):
    pass


@dataclass(frozen=True)
class RedisClients:
    """The client the stores use, and the Sentinel clients behind it (closed with it)."""

    master: Redis
    sentinels: tuple[Redis, ...] = ()

    async def aclose(self) -> None:
        await self.master.aclose()
        for sentinel in self.sentinels:
            await sentinel.aclose()


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _tls(settings: RedisSettings) -> dict[str, Any]:
    ca = settings.redis_ssl_ca_certs
    return {"ssl_ca_certs": str(ca)} if ca is not None else {}


def replica_wait(settings: RedisSettings) -> ReplicaWait:
    return ReplicaWait(replicas=settings.redis_wait_replicas, timeout_ms=settings.redis_wait_timeout_ms)


def redis_from_settings(settings: RedisSettings) -> RedisClients:
    """A client for REDIS_URL, or for the master of REDIS_SENTINEL_MASTER as REDIS_SENTINELS name it.

    Nothing is sent until the first command: an unreachable Redis (or no Sentinel answering) shows up there.
    """
    password = _secret(settings.redis_password)
    if not settings.sentinel_nodes or settings.redis_sentinel_master is None:
        extra: dict[str, Any] = {"password": password} if password else {}
        return RedisClients(Redis.from_url(settings.redis_url, **extra, **_tls(settings)))
    tls: dict[str, Any] = {"ssl": True, **_tls(settings)} if settings.redis_ssl else {}
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        settings.sentinel_nodes,
        sentinel_kwargs={
            "password": _secret(settings.redis_sentinel_password),
            "socket_timeout": SENTINEL_TIMEOUT,
            "socket_connect_timeout": SENTINEL_TIMEOUT,
            "retry": Retry(NoBackoff(), 0),
            **tls,
        },
    )
    master = sentinel.master_for(
        settings.redis_sentinel_master,
        password=password,
        socket_connect_timeout=CONNECT_TIMEOUT,
        # Above WAIT's own timeout, so a slow WAIT is answered rather than cut off.
        socket_timeout=max(SOCKET_TIMEOUT, settings.redis_wait_timeout_ms / 1000 + 2),
        retry=FailoverRetry(settings.redis_retry_seconds),
        connection_class=MasterSSLConnection if settings.redis_ssl else MasterConnection,
        **tls,
    )
    return RedisClients(master, tuple(sentinel.sentinels))
