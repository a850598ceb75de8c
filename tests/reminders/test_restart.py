"""Restarts and crashes: a reminder due while no bot ran is sent once, late; a lost send is retried."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.models import Severity
from bot.domain.reminders import Due, decide
from tests.reminders.conftest import MakeReplica
from tests.reminders.support import T0, ManualClock, SlackStandIn

MIN = timedelta(minutes=1)


class TestRestart:
    async def test_reminder_due_while_down_is_sent_once_late(
        self, make_replica: MakeReplica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """Killed at +10 min, started at +50 min (3 SEV1 cadences later): one reminder, then the cadence."""
        first = await make_replica()
        await first.store.create(slack.incident("INC-1", Severity.SEV1))
        assert (await first.service.sweep(clock.set(T0 + 10 * MIN))).sent == []
        await first.close()  # the process dies; only Redis remembers

        second = await make_replica()
        assert len((await second.service.sweep(clock.set(T0 + 50 * MIN))).sent) == 1
        assert (await second.service.sweep(clock.set(T0 + 51 * MIN))).sent == []
        assert (await second.service.sweep(clock.set(T0 + 64 * MIN))).sent == []
        assert len((await second.service.sweep(clock.set(T0 + 65 * MIN))).sent) == 1
        assert slack.reminders() == [("INC-1", "reminder", 1), ("INC-1", "reminder", 2)]

    async def test_a_replica_that_died_holding_a_claim_is_replaced_after_the_lease(
        self, make_replica: MakeReplica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """A claim without a recorded send blocks others only for the lease; then the reminder goes once."""
        bot = await make_replica()
        created, _ = await bot.store.create(slack.incident("INC-1", Severity.SEV1))
        now = clock.set(T0 + 20 * MIN)
        due = decide(created, bot.service.config.severities[Severity.SEV1], None, now)
        assert isinstance(due, Due)
        assert await bot.store.claim_once(due.token, timedelta(seconds=1))
        # ... and the process holding that claim dies before posting.
        assert (await bot.service.sweep(now)).sent == []
        await asyncio.sleep(1.2)
        assert len((await bot.service.sweep(now)).sent) == 1
        assert (await bot.service.sweep(now)).sent == []
        assert slack.reminders() == [("INC-1", "reminder", 1)]

    async def test_a_failed_post_is_retried_by_the_next_sweep(
        self, make_replica: MakeReplica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """Slack refusing the post releases the slot: the next sweep sends it, once."""
        bot = await make_replica()
        await bot.store.create(slack.incident("INC-1", Severity.SEV1))
        slack.sb.inject("chat.postMessage", "error", error="fatal_error")
        report = await bot.service.sweep(clock.set(T0 + 15 * MIN))
        assert (report.sent, report.failed) == ([], ["INC-1"])
        assert (await bot.store.get("INC-1")).reminders.sent == 0
        assert len((await bot.service.sweep(clock.set(T0 + 16 * MIN))).sent) == 1
        assert slack.reminders() == [("INC-1", "reminder", 1)]
        assert (await bot.store.get("INC-1")).reminders.sent == 1
