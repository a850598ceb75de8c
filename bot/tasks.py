"""Background work started after an ack or by a service: spawned, tracked, failures logged, drained on shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class BackgroundTasks:
    """One set of running tasks. Every fire-and-forget coroutine in the bot starts through one of these.

    A task is kept referenced until it ends (asyncio holds only weak references), an exception is logged with
    its trace under `event` (never swallowed silently), and `drain` lets the work finish on shutdown before the
    connections it needs are closed.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], *, event: str = "background.failed") -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._settle(done, event))
        return task

    def track(self, task: asyncio.Task[Any]) -> None:
        """Count an already running task (a Bolt listener's own) so that `drain` waits for it too."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _settle(self, task: asyncio.Task[Any], event: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error(event, tasks=self.name, exc_info=exc)

    def __len__(self) -> int:
        return sum(1 for t in self._tasks if not t.done())

    async def drain(self, grace: float | None = None) -> None:
        """Wait for the running tasks (and those they start) up to `grace` seconds; None waits for all."""
        loop = asyncio.get_running_loop()
        deadline = None if grace is None else loop.time() + grace
        while pending := [t for t in self._tasks if not t.done()]:
            timeout = None if deadline is None else deadline - loop.time()
            if timeout is not None and timeout <= 0:
                return
            await asyncio.wait(pending, timeout=timeout)

    async def cancel(self) -> None:
        """Cancel what is still running and wait for it to end."""
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
