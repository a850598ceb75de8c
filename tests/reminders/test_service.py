"""ReminderService on a real Redis and the Slack stand-in, with a clock the test moves: cadence, escalation,
snooze, quiet hours, reset on activity, the digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import NotAllowed
from bot.domain.incident import confirm_side, record_evidence, touch
from bot.domain.models import (
    EvidenceSource,
    EvidenceStatus,
    IncidentState,
    Severity,
    Side,
    Verdict,
    VerdictKind,
)
from bot.domain.reminders import SnoozeChoice
from tests.reminders.support import BERLIN, POLICIES, T0, ManualClock, Replica, SlackStandIn

MIN = timedelta(minutes=1)


async def sweep_at(bot: Replica, clock: ManualClock, at: datetime) -> list[str]:
    clock.set(at)
    return (await bot.service.sweep(at)).sent


class TestCadence:
    @pytest.mark.parametrize("severity", list(Severity))
    async def test_first_reminder_after_the_severity_cadence(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn, severity: Severity
    ) -> None:
        """Nothing before the severity's `remind_every`; at it, reminder 1 in the incident channel."""
        created, _ = await bot.store.create(slack.incident("INC-1", severity))
        cadence = POLICIES[severity].remind_every
        assert await sweep_at(bot, clock, T0 + cadence - MIN) == []
        assert len(await sweep_at(bot, clock, T0 + cadence)) == 1
        assert slack.reminders() == [("INC-1", "reminder", 1)]
        assert slack.posts()[0].channel == created.channel_id

    async def test_reminders_keep_their_cadence_and_name_both_sides(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """Reminders 1 and 2 half an hour apart (SEV2), each naming both sides and mentioning responders."""
        await bot.store.create(slack.incident("INC-1", Severity.SEV2))
        for minutes in range(0, 61, 5):
            await sweep_at(bot, clock, T0 + minutes * MIN)
        assert slack.reminders() == [("INC-1", "reminder", 1), ("INC-1", "reminder", 2)]
        text = slack.posts()[0].mrkdwn
        assert "MLOps still owes" in text
        assert "DataOps still owes" in text
        assert all(f"<@{u}>" in text for u in slack.people.ml + slack.people.data)
        assert slack.people.ml_lead not in text
        stored = await bot.store.get("INC-1")
        assert (stored.reminders.sent, stored.reminders.last_sent_at) == (2, T0 + 60 * MIN)
        assert [e.kind for e in await bot.store.timeline("INC-1")] == ["reminder", "reminder"]

    async def test_only_the_side_that_owes_is_named(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """MLOps filled its items and confirmed: the reminder names DataOps and mentions only its people."""
        ml = slack.people.ml[0]
        current = slack.incident("INC-1")
        for item in current.items_for(Side.MLOPS):
            person = EvidenceSource(kind="person", user_id=ml)
            current = record_evidence(current, item.ref, EvidenceStatus.OK, "fine", person, T0)
        verdict = Verdict(side=Side.MLOPS, kind=VerdictKind.CLEAR, user_id=ml, at=T0)
        current, _ = confirm_side(current, verdict, T0)
        await bot.store.create(current)
        await sweep_at(bot, clock, T0 + 30 * MIN)
        [post] = slack.posts()
        assert "DataOps still owes" in post.mrkdwn
        assert "MLOps still owes" not in post.mrkdwn
        assert "waiting on DataOps" in post.text
        assert all(f"<@{u}>" not in post.mrkdwn for u in slack.people.ml)

    async def test_decided_and_fresh_incidents_are_left_alone(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """A decided incident owes nothing; one with recent activity is not even read."""
        await bot.store.create(slack.incident("INC-1", state=IncidentState.DECIDED))
        await bot.store.create(slack.incident("INC-2", last_activity=T0 + 50 * MIN))
        clock.set(T0 + 60 * MIN)
        report = await bot.service.sweep(T0 + 60 * MIN)
        assert report.read == 1
        assert slack.posts() == []


class TestEscalation:
    async def test_escalates_after_n_unanswered_reminders(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """SEV1 escalates after 2 reminders: leads mentioned, triage told once; later ones keep the leads."""
        created, _ = await bot.store.create(slack.incident("INC-1", Severity.SEV1))
        for minutes in (15, 30, 45, 60):
            await sweep_at(bot, clock, T0 + minutes * MIN)
        assert slack.reminders() == [
            ("INC-1", "reminder", 1),
            ("INC-1", "reminder", 2),
            ("INC-1", "escalation", 3),
            ("INC-1", "reminder", 4),
        ]
        leads = (slack.people.ml_lead, slack.people.data_lead)
        in_channel = slack.posts(created.channel_id)
        assert all(f"<@{lead}>" not in p.mrkdwn for p in in_channel[:2] for lead in leads)
        assert all(f"<@{lead}>" in p.mrkdwn for p in in_channel[2:] for lead in leads)
        [triage] = slack.posts(slack.triage)
        assert triage.text.startswith("INC-1 escalated")
        assert f"<@{slack.people.ml_lead}>" in triage.mrkdwn
        assert f"<#{created.channel_id}>" in triage.mrkdwn
        stored = await bot.store.get("INC-1")
        assert stored.reminders.escalated
        assert "escalation" in [e.kind for e in await bot.store.timeline("INC-1")]

    async def test_activity_after_escalation_starts_over(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """Activity resets the count: the next reminder is number 1 again, without leads."""
        await bot.store.create(slack.incident("INC-1", Severity.SEV1))
        for minutes in (15, 30, 45):
            await sweep_at(bot, clock, T0 + minutes * MIN)
        await bot.store.mutate("INC-1", lambda i: touch(i, T0 + 50 * MIN), lambda b, a: [])
        assert await sweep_at(bot, clock, T0 + 64 * MIN) == []
        assert len(await sweep_at(bot, clock, T0 + 65 * MIN)) == 1
        assert slack.reminders()[-1] == ("INC-1", "reminder", 1)
        assert f"<@{slack.people.ml_lead}>" not in slack.posts()[-1].mrkdwn
        assert len(slack.posts(slack.triage)) == 1


class TestSnooze:
    async def test_snooze_holds_reminders_and_is_on_the_timeline(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """A responder snoozes for 1 h after reminder 1: reminder 2 comes when the snooze ends, not before."""
        created, _ = await bot.store.create(slack.incident("INC-1", Severity.SEV1))
        await sweep_at(bot, clock, T0 + 15 * MIN)
        clock.set(T0 + 16 * MIN)
        responder = slack.people.data[1]
        until = await bot.service.snooze("INC-1", responder, SnoozeChoice.HOUR)
        assert until == T0 + 76 * MIN
        assert await sweep_at(bot, clock, T0 + 75 * MIN) == []
        assert len(await sweep_at(bot, clock, T0 + 76 * MIN)) == 1
        assert slack.reminders() == [("INC-1", "reminder", 1), ("INC-1", "reminder", 2)]
        [entry] = [e for e in await bot.store.timeline("INC-1") if e.kind == "snooze"]
        assert entry.actor == responder
        assert entry.data["until"] == until.isoformat()
        assert "snoozed until" in slack.posts(created.channel_id)[1].text

    async def test_until_tomorrow_is_nine_in_the_quiet_hours_time_zone(
        self, bot: Replica, slack: SlackStandIn
    ) -> None:
        """Snoozing "until tomorrow" ends at 09:00 Berlin time on the next day; a lead may snooze too."""
        await bot.store.create(slack.incident("INC-1"))
        until = await bot.service.snooze("INC-1", slack.people.ml_lead, SnoozeChoice.TOMORROW)
        assert until.astimezone(ZoneInfo(BERLIN)).replace(tzinfo=None) == datetime(2026, 6, 11, 9, 0)
        assert (await bot.store.get("INC-1")).reminders.snoozed_until == until

    async def test_only_responders_may_snooze(self, bot: Replica, slack: SlackStandIn) -> None:
        """Someone on neither side is refused and nothing changes."""
        await bot.store.create(slack.incident("INC-1"))
        with pytest.raises(NotAllowed):
            await bot.service.snooze("INC-1", slack.people.outsider, SnoozeChoice.HOUR)
        assert (await bot.store.get("INC-1")).reminders.snoozed_until is None
        assert slack.posts() == []


class TestQuietHours:
    async def test_a_reminder_due_at_night_waits_for_the_morning(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """SEV3 due at 23:00 Berlin is sent at 08:00 Berlin (06:00 UTC); SEV1 is not held."""
        evening = datetime(2026, 6, 10, 21, 0, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)
        morning = datetime(2026, 6, 11, 6, 0, tzinfo=UTC)
        await bot.store.create(slack.incident("INC-3", Severity.SEV3, evening))
        await bot.store.create(slack.incident("INC-1", Severity.SEV1, evening + 2 * 60 * MIN))
        at = evening + 2 * 60 * MIN
        while at < morning:
            await sweep_at(bot, clock, at)
            at += 15 * MIN
        assert ("INC-3", "reminder", 1) not in slack.reminders()
        assert ("INC-1", "reminder", 1) in slack.reminders()
        await sweep_at(bot, clock, morning)
        assert slack.reminders().count(("INC-3", "reminder", 1)) == 1
        assert (await bot.store.get("INC-3")).reminders.last_sent_at == morning


class TestDigest:
    async def test_digest_content_and_once_per_day(self, bot: Replica, slack: SlackStandIn) -> None:
        """The digest goes to the triage channel once a day with counts, the oldest and who owes what."""
        await bot.store.create(slack.incident("INC-1", Severity.SEV1, T0 - 3 * 60 * MIN))
        await bot.store.create(slack.incident("INC-2", Severity.SEV3, T0 - 2 * 24 * 60 * MIN))
        await bot.store.create(slack.incident("INC-3", Severity.SEV2, T0, state=IncidentState.DECIDED))
        await bot.store.create(slack.incident("INC-4", Severity.SEV4, T0, state=IncidentState.CLOSED))
        assert await bot.service.digest(T0)
        assert not await bot.service.digest(T0 + 60 * MIN)
        [post] = slack.posts(slack.triage)
        assert post.text == "Incident digest 2026-06-10: 3 open incident(s)"
        text = post.mrkdwn
        assert "SEV1: 1 · SEV2: 1 · SEV3: 1 · SEV4: 0" in text
        assert "Investigating: 2 · Decided: 1" in text
        oldest = text.split("*Oldest*")[1].split("*Waiting on")[0]
        assert oldest.index("INC-2") < oldest.index("INC-1") < oldest.index("INC-3")
        assert "*Waiting on MLOps (2)*" in text
        assert "*Waiting on DataOps (2)*" in text
        assert "INC-4" not in text

    async def test_the_next_day_gets_its_own_digest(self, bot: Replica, slack: SlackStandIn) -> None:
        """The once-token is per local day: tomorrow's digest is sent, and says nothing is open."""
        assert await bot.service.digest(T0)
        assert await bot.service.digest(T0 + timedelta(days=1))
        assert [p.text for p in slack.posts()] == [
            "Incident digest 2026-06-10: 0 open incident(s)",
            "Incident digest 2026-06-11: 0 open incident(s)",
        ]

    async def test_a_tick_sends_todays_digest_only_in_its_window(
        self, bot: Replica, slack: SlackStandIn
    ) -> None:
        """A bot started at 10:30 Berlin sends the 09:00 digest; one started at 20:00 does not."""
        await bot.service.tick(datetime(2026, 6, 10, 20, 0, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC))
        assert slack.posts() == []
        await bot.service.tick(datetime(2026, 6, 11, 10, 30, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC))
        assert [p.text for p in slack.posts()] == ["Incident digest 2026-06-11: 0 open incident(s)"]

    async def test_a_digest_refused_by_slack_goes_out_on_the_next_tick(
        self, bot: Replica, slack: SlackStandIn
    ) -> None:
        """Slack refuses the 12:00 digest: the next tick, still in the window, sends it once."""
        slack.sb.inject("chat.postMessage", "error", error="fatal_error")
        await bot.service.tick(T0)
        assert slack.posts() == []
        await bot.service.tick(T0 + MIN)
        await bot.service.tick(T0 + 2 * MIN)
        assert [p.text for p in slack.posts()] == ["Incident digest 2026-06-10: 0 open incident(s)"]
