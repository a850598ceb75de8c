"""Writes confirmed by replicas: WAIT on the connection that wrote, before the bot answers for the write."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from bot.domain.errors import StoreUnavailable


@dataclass(frozen=True)
class ReplicaWait:
    """How many replicas must hold a write before it counts as kept (0: the master's answer is enough).

    `WAIT replicas timeout_ms` is sent on the connection that wrote, right after the write: it returns once
    that many replicas acknowledged everything written so far, or at the timeout with how many did.
    """

    replicas: int = 0
    timeout_ms: int = 1000

    @property
    def enabled(self) -> bool:
        return self.replicas > 0

    def check(self, acked: object, what: str) -> None:
        """StoreUnavailable when fewer than `replicas` acknowledged: the write is on the master only."""
        got = int(acked) if isinstance(acked, int | str | bytes) else 0
        if got < self.replicas:
            raise StoreUnavailable(
                f"{what} was written but {got} of the {self.replicas} replica(s) required confirmed it within "
                f"{self.timeout_ms} ms; it may be lost at a failover"
            )


NO_WAIT = ReplicaWait()


async def run_confirmed(
    redis: Redis,
    script: AsyncScript,
    keys: Sequence[Any],
    args: Sequence[Any],
    wait: ReplicaWait,
    what: str,
    wrote: Callable[[Any], bool] = lambda _answer: True,
) -> Any:
    """Run `script`; with `wait` on, also WAIT on the same connection (one pipeline, one round trip).

    Returns the script's answer. StoreUnavailable when the script `wrote` (judged from its answer) and too
    few replicas confirmed: the write stands on the master, so a retry must be harmless, as every confirmed
    write of the store is (the versioned write, the alert bindings; a re-sent alert is deduplicated).
    """
    if not wait.enabled:
        return await script(keys=list(keys), args=list(args))
    try:
        result, acked = await _script_then_wait(redis, script, keys, args, wait)
    except NoScriptError:
        # The pipeline loads its scripts before it runs, but a run retried on a new master (after a failover)
        # finds the script cache empty there: load it, and run once more.
        await redis.script_load(script.script)
        result, acked = await _script_then_wait(redis, script, keys, args, wait)
    if wrote(result):
        wait.check(acked, what)
    return result


async def _script_then_wait(
    redis: Redis, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any], wait: ReplicaWait
) -> tuple[Any, Any]:
    async with redis.pipeline(transaction=False) as pipe:
        await script(keys=list(keys), args=list(args), client=pipe)
        pipe.execute_command("WAIT", wait.replicas, wait.timeout_ms)
        result, acked = await pipe.execute()
    return result, acked
