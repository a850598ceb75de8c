"""The apscheduler wiring: job options, a real tick, catch-up at start, a clean stop, attach_reminders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import build_reminders
from bot.config import HandoffConfig
from bot.domain.models import Severity
from bot.scheduling.scheduler import DIGEST_JOB, SWEEP_JOB, build_scheduler, start_scheduler, stop_scheduler
from bot.services.directory import ResponderDirectory
from bot.services.reminders import ReminderService
from tests.reminders.conftest import MakeReplica
from tests.reminders.support import BERLIN, T0, ManualClock, Replica, SlackStandIn

MIN = timedelta(minutes=1)


async def eventually(check: Callable[[], bool]) -> None:
    """Wait (at most 5 s of real time) for what the scheduler does in the background."""
    async with asyncio.timeout(5):
        while not check():  # noqa: ASYNC110 - the scheduler's jobs offer nothing to await on
            await asyncio.sleep(0.02)


class TestBuildScheduler:
    async def test_jobs_and_their_options(self, bot: Replica, config: HandoffConfig) -> None:
        """An interval sweep and a cron digest in the memory job store, coalesced, never overlapping."""
        handle = build_scheduler(bot.service, config.reminders)
        handle.scheduler.start(paused=True)
        try:
            sweep, digest = handle.scheduler.get_job(SWEEP_JOB), handle.scheduler.get_job(DIGEST_JOB)
            assert isinstance(sweep.trigger, IntervalTrigger)
            assert sweep.trigger.interval == config.reminders.sweep_every
            assert (sweep.coalesce, sweep.max_instances, sweep.misfire_grace_time) == (True, 1, 60)
            assert isinstance(digest.trigger, CronTrigger)
            assert (digest.coalesce, digest.max_instances) == (True, 1)
            assert digest.misfire_grace_time > 3600
            nine_berlin = datetime(2026, 6, 11, 9, 0, tzinfo=ZoneInfo(BERLIN))
            assert digest.trigger.get_next_fire_time(None, T0) == nine_berlin
            assert all(isinstance(s, MemoryJobStore) for s in handle.scheduler._jobstores.values())
        finally:
            handle.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)


class TestRunningScheduler:
    async def test_start_catches_up_ticks_and_stops(
        self, make_replica: MakeReplica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """Started after a reminder fell due: sent at once; the interval tick sends the next; clean stop."""
        bot = await make_replica()
        await bot.store.create(slack.incident("INC-1", Severity.SEV1))
        clock.set(T0 + 40 * MIN)  # the bot was down when reminder 1 fell due at +15 min
        config = bot.service.config.reminders.model_copy(update={"sweep_every": timedelta(seconds=1)})
        handle = build_scheduler(bot.service, config)
        await start_scheduler(handle)
        try:
            await eventually(lambda: len(slack.reminders()) == 1)
            clock.set(T0 + 55 * MIN)  # reminder 2 falls due; only the interval tick can send it now
            await eventually(lambda: len(slack.reminders()) == 2)
        finally:
            await stop_scheduler(handle)
        assert not handle.scheduler.running
        assert slack.reminders() == [("INC-1", "reminder", 1), ("INC-1", "reminder", 2)]

    async def test_two_replicas_starting_together_send_once(
        self, make_replica: MakeReplica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """Two bots started at 10:00 Berlin on one Redis: one overdue reminder and one digest between them."""
        a, b = await make_replica(), await make_replica()
        now = clock.set(datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC))
        await a.store.create(slack.incident("INC-1", Severity.SEV2, now - 45 * MIN))
        handles = [build_scheduler(r.service, r.service.config.reminders) for r in (a, b)]
        await asyncio.gather(*(start_scheduler(h) for h in handles))
        try:
            await eventually(lambda: len(slack.posts()) >= 2)
            await asyncio.sleep(0.3)  # room for a duplicate to show up, were there one
        finally:
            await asyncio.gather(*(stop_scheduler(h) for h in handles))
        assert slack.reminders() == [("INC-1", "reminder", 1)]
        digests = [p.text for p in slack.posts(slack.triage)]
        assert digests == ["Incident digest 2026-06-10: 1 open incident(s)"]


class TestBuildReminders:
    async def test_builds_the_service_and_a_scheduler_that_starts_and_stops(
        self, bot: Replica, config: HandoffConfig, clock: ManualClock
    ) -> None:
        """What the composition root calls: the reminder service, and a scheduler the workers start and stop."""
        gateway = bot.service.gateway
        service, handle = build_reminders(
            config, bot.store, gateway, ResponderDirectory(config, gateway), clock
        )
        assert isinstance(service, ReminderService)
        assert handle.service is service
        await start_scheduler(handle)
        assert handle.scheduler.running
        await stop_scheduler(handle)
        assert not handle.scheduler.running
