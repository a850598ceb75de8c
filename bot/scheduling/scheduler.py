"""The AsyncIOScheduler that ticks the reminder sweep and the daily digest, and its start and stop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import RemindersConfig
from bot.services.reminders import DIGEST_WINDOW, ReminderService
from bot.tasks import BackgroundTasks

log = structlog.get_logger(__name__)

SWEEP_JOB = "reminders.sweep"
DIGEST_JOB = "reminders.digest"
START_JOB = "reminders.start"
DRAIN_SECONDS = 10.0  # how long stop waits for a tick in progress to record what it sent


@dataclass
class ReminderScheduler:
    """The scheduler and the ticks it is running, so a stop can let them finish recording their sends."""

    scheduler: AsyncIOScheduler
    service: ReminderService
    in_flight: BackgroundTasks = field(default_factory=lambda: BackgroundTasks("reminders"))


async def _tick(handle: ReminderScheduler, what: str) -> None:
    """One job run. Jobs are module functions over an in-memory job store: nothing is pickled or shared."""
    task = asyncio.current_task()
    if task is not None:
        handle.in_flight.track(task)  # apscheduler's own task: counted until it ends, for the stop to wait
    try:
        service = handle.service
        if what == DIGEST_JOB:
            await service.digest(service.clock())
        else:
            report = await service.tick(service.clock())
            if report.sent or report.failed:
                log.info(
                    "reminders.swept", read=report.read, sent=len(report.sent), failed=len(report.failed)
                )
    except Exception:
        # The next tick retries: everything a tick decides from lives in Redis, nothing in this process.
        log.exception("reminders.tick_failed", job=what)


def build_scheduler(service: ReminderService, config: RemindersConfig) -> ReminderScheduler:
    """An unstarted scheduler with the sweep every `sweep_every` and the digest daily at `digest_at`."""
    scheduler = AsyncIOScheduler(timezone=UTC)  # the default memory job store: never a shared Redis one
    handle = ReminderScheduler(scheduler=scheduler, service=service)
    scheduler.add_job(
        _tick,
        IntervalTrigger(seconds=max(1.0, config.sweep_every.total_seconds()), timezone=UTC),
        args=[handle, SWEEP_JOB],
        id=SWEEP_JOB,
        # A missed tick is covered by the next one (a tick reads what is stale now, and sends a digest not
        # yet sent), so missed runs collapse into one, a run later than a period is dropped, none overlap.
        coalesce=True,
        misfire_grace_time=max(1, int(config.sweep_every.total_seconds())),
        max_instances=1,
    )
    digest_at = config.digest_at
    scheduler.add_job(
        _tick,
        CronTrigger(
            hour=digest_at.hour,
            minute=digest_at.minute,
            second=digest_at.second,
            timezone=ZoneInfo(config.quiet_hours.timezone),
        ),
        args=[handle, DIGEST_JOB],
        id=DIGEST_JOB,
        coalesce=True,
        misfire_grace_time=int(DIGEST_WINDOW.total_seconds()),  # late is fine: the once-token says if sent
        max_instances=1,
    )
    return handle


async def start_scheduler(handle: ReminderScheduler) -> None:
    """Start ticking; catch up at once on what fell due while no bot ran (the first tick is a period away)."""
    if handle.scheduler.running:
        return
    handle.scheduler.start()
    # No trigger: apscheduler runs it once, now.
    handle.scheduler.add_job(_tick, args=[handle, START_JOB], id=START_JOB, replace_existing=True)
    log.info("reminders.scheduler_started")


async def stop_scheduler(handle: ReminderScheduler, drain_seconds: float = DRAIN_SECONDS) -> None:
    """Stop new ticks, give running ones `drain_seconds` to record their sends, then shut down."""
    scheduler = handle.scheduler
    if not scheduler.running:
        return
    scheduler.pause()
    await handle.in_flight.drain(drain_seconds)
    scheduler.shutdown(wait=False)
    # AsyncIOScheduler shuts down on a later loop iteration; let it, so `running` is False on return.
    await asyncio.sleep(0)
    log.info("reminders.scheduler_stopped")
