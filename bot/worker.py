"""`handoff worker`: a process that runs the playbook runs the Slack-facing process queued.

It builds only what a run needs (the stores, the Slack gateway, the evidence service that fills checklists and
the playbook runner) and holds each run it takes under a lease it renews. A worker that dies leaves its runs
pending; another worker takes them over once the lease lapses, runs them again from the start, updates the same
progress message (saying it resumed the run) and records each finding once.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field

import httpx
import structlog
from redis.asyncio import Redis

from bot.app import build_core, load_all_playbooks, names_by_side
from bot.config import HandoffConfig, PlaybookWorkersConfig
from bot.logging import register_secrets
from bot.services.clock import Clock, system_clock
from bot.services.playbooks import RUN_TTL, PlaybookService, env_refs
from bot.settings import Settings
from bot.slack.gateway import SlackCallFailed, SlackGateway, make_client
from bot.store import Stores, connect_settings
from bot.store.base import ClaimedRun, RunQueue
from playbooks.runner import RunContext

log = structlog.get_logger("handoff.worker")


def worker_name() -> str:
    """Unique per process: the consumer name its runs are pending under."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class PlaybookWorker:
    """Takes queued runs (new ones, and ones whose worker stopped) and runs them, `concurrency` at once."""

    service: PlaybookService
    queue: RunQueue
    gateway: SlackGateway
    settings: PlaybookWorkersConfig
    name: str = field(default_factory=worker_name)
    _active: set[asyncio.Task[None]] = field(default_factory=set)
    _per_playbook: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def lease_ms(self) -> int:
        return max(1, int(self.settings.lease.total_seconds() * 1000))

    async def run(self) -> None:
        """Take and run requests until `stop`; a run in flight then finishes (or is left to the lease)."""
        loop = asyncio.get_running_loop()
        next_reclaim = 0.0
        log.info("worker.started", worker=self.name, concurrency=self.settings.concurrency)
        while not self._stopping.is_set():
            free = self.settings.concurrency - len(self._active)
            if free <= 0:
                await asyncio.wait(self._active, return_when=asyncio.FIRST_COMPLETED)
                continue
            taken: list[ClaimedRun] = []
            try:
                if loop.time() >= next_reclaim:
                    taken = await self.queue.reclaim(self.name, self.lease_ms, free)
                    next_reclaim = loop.time() + self.settings.lease.total_seconds() / 2
                if not taken:
                    taken = await self.queue.claim(self.name, free, block_ms=500)
            except Exception:
                log.exception("worker.queue_failed", worker=self.name)  # Redis away: try again shortly
                await asyncio.sleep(1.0)
            for claimed in taken:
                task = asyncio.create_task(self._process(claimed))
                self._active.add(task)
                task.add_done_callback(self._active.discard)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking runs; give those in flight `grace` seconds, then leave them to another worker's lease."""
        self._stopping.set()
        if self._active:
            _, pending = await asyncio.wait(set(self._active), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _process(self, claimed: ClaimedRun) -> None:
        request = claimed.request
        bound = log.bind(run_id=request.run_id, playbook=request.playbook, incident_id=request.incident_id)
        try:
            if await self._runnable(claimed, bound):
                await self._with_lease(claimed, self._execute(claimed))
            await self.queue.ack(claimed.entry_id)
        except _LeaseLost:
            bound.warning("worker.lease_lost", worker=self.name)  # another worker has the run now
        except asyncio.CancelledError:
            bound.info("worker.run_left_to_another_worker", worker=self.name)
            raise
        except Exception:
            bound.exception("worker.run_failed", worker=self.name)
            await self.queue.ack(claimed.entry_id)  # a run that raises would raise again: not retried

    async def _runnable(self, claimed: ClaimedRun, bound: structlog.stdlib.BoundLogger) -> bool:
        request = claimed.request
        playbook = next((p for p in self.service.playbooks if p.name == request.playbook), None)
        if playbook is None:
            bound.warning("worker.unknown_playbook")
            return False
        if claimed.deliveries > self.settings.max_deliveries:
            bound.error("worker.run_given_up", deliveries=claimed.deliveries)
            await self._tell(request.incident_id, f"Playbook `{playbook.name}` was given up: "
                             f"{claimed.deliveries - 1} worker(s) stopped while running it.")  # fmt: skip
            return False
        missing = env_refs(playbook) - set(self.service.ctx.env)
        if missing:
            bound.warning("worker.playbook_not_runnable", missing=sorted(missing))
            if request.user_id is not None:
                await self._tell(request.incident_id, f"Playbook `{playbook.name}` cannot run: the workers' "
                                 f"environment lacks {', '.join(sorted(missing))}.")  # fmt: skip
            return False
        return True

    async def _execute(self, claimed: ClaimedRun) -> None:
        request = claimed.request
        playbook = next(p for p in self.service.playbooks if p.name == request.playbook)
        semaphore = self._per_playbook.setdefault(
            playbook.name, asyncio.Semaphore(self.settings.per_playbook)
        )
        async with semaphore:
            ts = await self.queue.message_of(request.run_id)

            async def posted(new_ts: str) -> None:
                await self.queue.remember_message(request.run_id, new_ts, RUN_TTL)

            await self.service.run(
                request.incident_id,
                playbook,
                request.user_id,
                run_id=request.run_id,
                message_ts=ts,
                on_posted=posted,
                resumed=claimed.resumed,
            )

    async def _with_lease(self, claimed: ClaimedRun, work: Awaitable[None]) -> None:
        """Run `work`, renewing the lease every third of it; _LeaseLost (work cancelled) when it was taken."""
        task = asyncio.ensure_future(work)
        every = self.settings.lease.total_seconds() / 3
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=every)
                if done:
                    return task.result()
                if not await self.queue.renew(self.name, claimed.entry_id):
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    raise _LeaseLost
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _tell(self, incident_id: str, text: str) -> None:
        try:
            incident = await self.service.store.get(incident_id)
            if incident.channel_id is not None:
                await self.gateway.post(incident.channel_id, text)
        except SlackCallFailed:
            log.exception("worker.tell_failed", incident_id=incident_id)


class _LeaseLost(Exception):
    """The run's lease lapsed and another worker took it over."""


@dataclass
class Worker:
    """One worker process's parts; `aclose` closes its connections."""

    stores: Stores
    http: httpx.AsyncClient
    playbooks: PlaybookWorker

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.stores.aclose()


async def build_worker(
    settings: Settings,
    config: HandoffConfig,
    *,
    clock: Clock = system_clock,
    redis: Redis | None = None,
    name: str | None = None,
) -> Worker:
    """Build a worker from the same settings and config as `handoff serve` (no Bolt, no HTTP server)."""
    register_secrets([settings.slack_bot_token.get_secret_value()])
    stores = connect_settings(settings, redis)
    gateway = SlackGateway(make_client(settings.slack_bot_token.get_secret_value(), settings.api_url))
    bot_user_id = str((await gateway.auth_test()).get("user_id", ""))
    playbooks = load_all_playbooks(config)
    register_secrets(os.environ[n] for p in playbooks for n in env_refs(p) if os.environ.get(n))
    core = build_core(
        config, stores.incidents, gateway, clock, bot_user_id, names_by_side(playbooks, os.environ, config)
    )
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0))
    workers = config.playbooks.workers
    ctx = RunContext(http=http, snapshots=stores.snapshots, env=dict(os.environ), concurrency=workers.steps)
    service = PlaybookService(playbooks, ctx, core.store, core.evidence, gateway, run_on_open=False)
    worker = PlaybookWorker(service, stores.runs, gateway, workers)
    if name is not None:
        worker.name = name
    return Worker(stores, http, worker)


async def serve_worker(settings: Settings, config: HandoffConfig) -> None:
    """`handoff worker`: run until SIGTERM/SIGINT, then let the runs in flight finish (up to 10 s)."""
    import signal

    worker = await build_worker(settings, config)
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
    loop_task = asyncio.create_task(worker.playbooks.run())
    stop_task = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({loop_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if loop_task.done():
            loop_task.result()  # the loop ended by itself: a failure (Redis gone), raised
    finally:
        loop_task.cancel()
        stop_task.cancel()
        await asyncio.gather(loop_task, stop_task, return_exceptions=True)
        await worker.playbooks.stop()
        await worker.aclose()
        log.info("worker.stopped", worker=worker.playbooks.name)
