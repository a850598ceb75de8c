"""Two bot processes on one Redis sweep a simulated day: each reminder and escalation is sent exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import HandoffConfig
from bot.domain.incident import Incident, touch
from bot.domain.models import Severity
from bot.domain.reminders import Due, SnoozeChoice, decide, record_sent, snooze
from bot.domain.reminders import snooze_until as snooze_end
from tests.reminders.conftest import MakeReplica
from tests.reminders.support import ManualClock, SlackStandIn

START = datetime(2026, 6, 10, 6, 0, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
STEP = timedelta(minutes=15)
STEPS = 96  # one day, through the Berlin quiet hours
SEVERITIES = [Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4]
ACTIVITY = {(n, 20 + n) for n in range(0, 50, 5)}  # (incident number, step): someone posts in the channel
SNOOZES = {(n, 30) for n in range(3, 50, 10)}  # (incident number, step): a responder snoozes for 1 h


def day_of_incidents(slack: SlackStandIn) -> list[Incident]:
    """50 incidents of mixed severities whose last activity is spread over the two hours before the start."""
    return [
        slack.incident(f"INC-{n:04d}", SEVERITIES[n % 4], START - timedelta(minutes=7 * n % 120))
        for n in range(50)
    ]


Sends = dict[str, list[tuple[str, int]]]  # incident id -> ("reminder" or "escalation", number), in order


def expected_sends(config: HandoffConfig, incidents: list[Incident]) -> tuple[Sends, dict[str, Incident]]:
    """The oracle: the same day played on plain values, one process, no Redis."""
    state = {i.id: i for i in incidents}
    sends: Sends = {i.id: [] for i in incidents}
    quiet = config.reminders.quiet_hours
    for step in range(STEPS + 1):
        now = START + step * STEP
        for n, i in enumerate(incidents):
            if (n, step) in ACTIVITY:
                state[i.id] = touch(state[i.id], now)
            if (n, step) in SNOOZES:
                state[i.id] = snooze(state[i.id], snooze_end(SnoozeChoice.HOUR, now, quiet.timezone), now)
        for incident_id, current in state.items():
            due = decide(current, config.severities[current.severity], quiet, now)
            if isinstance(due, Due):
                sends[incident_id].append(("escalation" if due.escalation else "reminder", due.number))
                state[incident_id] = record_sent(current, due, now)
    return sends, state


class TestTwoReplicas:
    @pytest.mark.slow
    async def test_a_day_of_sweeps_sends_each_reminder_once(
        self, make_replica: MakeReplica, config: HandoffConfig, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """Both replicas sweep at every step at once; the posts match the one-process oracle exactly."""
        a, b = await make_replica(), await make_replica()
        incidents = day_of_incidents(slack)
        for i in incidents:
            await a.store.create(i)
        sent_by = Counter[str]()
        for step in range(STEPS + 1):
            now = clock.set(START + step * STEP)
            for n, i in enumerate(incidents):
                if (n, step) in ACTIVITY:
                    await b.store.mutate(i.id, lambda x, at=now: touch(x, at), lambda _b, _a: [])
                if (n, step) in SNOOZES:
                    who = (a, slack.people.ml[0]) if n % 2 else (b, slack.people.data[0])
                    await who[0].service.snooze(i.id, who[1], SnoozeChoice.HOUR)
            ra, rb = await asyncio.gather(a.service.sweep(now), b.service.sweep(now))
            sent_by["a"] += len(ra.sent)
            sent_by["b"] += len(rb.sent)
            assert not ra.failed
            assert not rb.failed

        expected, final = expected_sends(config, incidents)
        posted: Sends = {i.id: [] for i in incidents}
        for incident_id, kind, number in slack.reminders():
            posted[incident_id].append((kind, number))
        assert posted == expected
        total = sum(len(v) for v in expected.values())
        assert total > 1000  # the day really exercised the slots (sanity of the scenario itself)
        assert sent_by["a"] + sent_by["b"] == total
        assert sent_by["a"] > 0
        assert sent_by["b"] > 0
        escalations = sum(1 for v in expected.values() for kind, _ in v if kind == "escalation")
        assert len(slack.posts(slack.triage)) == escalations > 0
        for i in incidents:
            stored = await a.store.get(i.id)
            assert stored.reminders == final[i.id].reminders, i.id
