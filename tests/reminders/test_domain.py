"""Table tests of the pure reminder decisions: cadence, snooze, quiet hours, escalation, reset, digest."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import QuietHours, SeverityPolicy
from bot.domain.incident import Incident, ReminderState, confirm_side, record_evidence, touch
from bot.domain.models import EvidenceSource, EvidenceStatus, IncidentState, Severity, Side
from bot.domain.reminders import (
    Due,
    Nothing,
    SnoozeChoice,
    Wait,
    build_digest,
    cycle_of,
    decide,
    in_quiet_hours,
    quiet_hours_end,
    record_sent,
    snooze,
    snooze_until,
)
from tests.domain.builders import clear
from tests.reminders.support import BERLIN, T0
from tests.reminders.support import incident as make_incident

SEV2 = SeverityPolicy(remind_every=timedelta(minutes=30), escalate_after=3)
QUIET_SEV3 = SeverityPolicy(remind_every=timedelta(hours=2), escalate_after=3, quiet_hours=True)
QUIET = QuietHours(start=time(22, 0), end=time(8, 0), timezone=BERLIN)
PERSON = EvidenceSource(kind="person", user_id="UML1")
MIN = timedelta(minutes=1)


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A June 2026 wall time in Berlin, as UTC."""
    return datetime(2026, 6, day, hour, minute, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)


def incident(
    incident_id: str,
    severity: Severity = Severity.SEV2,
    last_activity: datetime = T0,
    *,
    state: IncidentState = IncidentState.INVESTIGATING,
    channel: bool = True,
) -> Incident:
    channel_id = f"C{incident_id.replace('-', '')}" if channel else None
    return make_incident(incident_id, severity, last_activity, state=state, channel_id=channel_id)


def with_reminders(base: Incident, **state: object) -> Incident:
    return base.model_copy(update={"reminders": ReminderState.model_validate(state)})


def mlops_done(base: Incident) -> Incident:
    """MLOps has filled every item and confirmed "clear": only DataOps still owes anything."""
    current = base
    for item in base.items_for(Side.MLOPS):
        current = record_evidence(current, item.ref, EvidenceStatus.OK, "fine", PERSON, base.last_activity_at)
    current, _ = confirm_side(current, clear(Side.MLOPS), base.last_activity_at)
    return current


class TestDecide:
    @pytest.mark.parametrize(
        ("reminders", "now", "expected"),
        [
            ({}, T0 + 29 * MIN, Nothing(Wait.NOT_YET, T0 + 30 * MIN)),
            ({}, T0 + 30 * MIN, 1),
            ({}, T0 + 5 * 60 * MIN, 1),  # late (a bot that was down): still reminder 1, once
            ({"sent": 1, "last_sent_at": T0 + 30 * MIN}, T0 + 59 * MIN, Nothing(Wait.NOT_YET, T0 + 60 * MIN)),
            ({"sent": 1, "last_sent_at": T0 + 30 * MIN}, T0 + 60 * MIN, 2),
            # Counted from the late send, not from the activity: no burst after downtime.
            ({"sent": 1, "last_sent_at": T0 + 5 * 60 * MIN}, T0 + 5 * 60 * MIN + 29 * MIN, Wait.NOT_YET),
            ({"sent": 2, "last_sent_at": T0 + 60 * MIN}, T0 + 90 * MIN, 3),
        ],
    )
    def test_cadence(self, reminders: dict[str, object], now: datetime, expected: object) -> None:
        """Reminder n falls due one cadence after the activity, then one cadence after each send."""
        decision = decide(with_reminders(incident("INC-1"), **reminders), SEV2, QUIET, now)
        if isinstance(expected, int):
            assert isinstance(decision, Due)
            assert decision.number == expected
            assert not decision.escalation
        elif isinstance(expected, Wait):
            assert isinstance(decision, Nothing)
            assert decision.reason is expected
        else:
            assert decision == expected

    @pytest.mark.parametrize(
        ("sent", "escalated", "escalation", "leads"),
        [(2, False, False, False), (3, False, True, True), (4, True, False, True), (9, True, False, True)],
    )
    def test_escalation_after_n_unanswered(
        self, sent: int, escalated: bool, escalation: bool, leads: bool
    ) -> None:
        """After `escalate_after` reminders the next slot escalates once; later ones keep naming the leads."""
        base = with_reminders(incident("INC-1"), sent=sent, last_sent_at=T0, escalated=escalated)
        decision = decide(base, SEV2, QUIET, T0 + 30 * MIN)
        assert isinstance(decision, Due)
        assert (decision.number, decision.escalation, decision.mention_leads) == (sent + 1, escalation, leads)

    def test_names_only_the_sides_that_owe(self) -> None:
        """A side with every item filled and a confirmation given is not reminded."""
        decision = decide(mlops_done(incident("INC-1")), SEV2, QUIET, T0 + 30 * MIN)
        assert isinstance(decision, Due)
        assert decision.sides == (Side.DATAOPS,)
        assert "confirmation" in decision.owed[Side.DATAOPS]

    def test_need_more_evidence_still_owes_a_confirmation(self) -> None:
        """Both sides are named while neither has confirmed, with their unknown items and the confirmation."""
        decision = decide(incident("INC-1"), SEV2, QUIET, T0 + 30 * MIN)
        assert isinstance(decision, Due)
        assert decision.sides == (Side.MLOPS, Side.DATAOPS)
        assert decision.owed[Side.MLOPS][-1] == "confirmation"

    @pytest.mark.parametrize(
        ("state", "channel", "reason"),
        [
            (IncidentState.DECIDED, True, Wait.NOT_AWAITING),
            (IncidentState.RESOLVED, True, Wait.NOT_AWAITING),
            (IncidentState.CLOSED, True, Wait.NOT_AWAITING),
            (IncidentState.OPEN, False, Wait.NO_CHANNEL),
        ],
    )
    def test_nothing_for_decided_or_channelless(
        self, state: IncidentState, channel: bool, reason: Wait
    ) -> None:
        """Decided incidents owe no evidence; an incident without its channel yet has nowhere to post."""
        decision = decide(incident("INC-1", state=state, channel=channel), SEV2, QUIET, T0 + 90 * MIN)
        assert decision == Nothing(reason)

    @pytest.mark.parametrize(
        ("snoozed_until", "now", "expected"),
        [
            (T0 + 60 * MIN, T0 + 45 * MIN, Nothing(Wait.SNOOZED, T0 + 60 * MIN)),
            (T0 + 60 * MIN, T0 + 60 * MIN, 1),
            (T0 + 10 * MIN, T0 + 30 * MIN, 1),  # a snooze that ended before the due time changes nothing
        ],
    )
    def test_snooze(self, snoozed_until: datetime, now: datetime, expected: object) -> None:
        """A snooze holds the due reminder until it ends, then the same reminder goes out."""
        decision = decide(with_reminders(incident("INC-1"), snoozed_until=snoozed_until), SEV2, QUIET, now)
        if isinstance(expected, int):
            assert isinstance(decision, Due)
            assert decision.number == expected
        else:
            assert decision == expected

    @pytest.mark.parametrize(
        ("activity", "now", "expected"),
        [
            (berlin(10, 20, 0), berlin(10, 22, 0), Nothing(Wait.QUIET_HOURS, berlin(11, 8, 0))),
            (berlin(10, 23, 0), berlin(11, 3, 0), Nothing(Wait.QUIET_HOURS, berlin(11, 8, 0))),
            (berlin(10, 23, 0), berlin(11, 7, 59), Nothing(Wait.QUIET_HOURS, berlin(11, 8, 0))),
            (berlin(10, 23, 0), berlin(11, 8, 0), 1),
            (berlin(10, 19, 0), berlin(10, 21, 59), 1),
        ],
    )
    def test_quiet_hours_in_the_configured_time_zone(
        self, activity: datetime, now: datetime, expected: object
    ) -> None:
        """A reminder due in quiet hours (22:00-08:00 Berlin) waits until 08:00 Berlin, not 08:00 UTC."""
        decision = decide(incident("INC-1", Severity.SEV3, activity), QUIET_SEV3, QUIET, now)
        if isinstance(expected, int):
            assert isinstance(decision, Due)
            assert decision.number == expected
        else:
            assert decision == expected

    def test_quiet_hours_ignored_when_the_policy_says_so(self) -> None:
        """A severity whose policy has no quiet hours is reminded at 03:00 local."""
        decision = decide(incident("INC-1", Severity.SEV2, berlin(11, 2, 0)), SEV2, QUIET, berlin(11, 3, 0))
        assert isinstance(decision, Due)

    def test_activity_resets_the_count_and_the_slot(self) -> None:
        """After activity the next reminder is number 1 again, in a new cycle, so its once-token differs."""
        reminded = with_reminders(incident("INC-1"), sent=3, last_sent_at=T0 + 90 * MIN, escalated=True)
        first = decide(reminded, SEV2, QUIET, T0 + 120 * MIN)
        active = touch(reminded, T0 + 100 * MIN)
        assert decide(active, SEV2, QUIET, T0 + 129 * MIN) == Nothing(Wait.NOT_YET, T0 + 130 * MIN)
        again = decide(active, SEV2, QUIET, T0 + 130 * MIN)
        assert isinstance(first, Due)
        assert isinstance(again, Due)
        assert (again.number, again.escalation, again.mention_leads) == (1, False, False)
        assert again.token != first.token
        assert again.token.startswith("reminder:INC-1:")


class TestQuietHours:
    @pytest.mark.parametrize(
        ("start", "end", "local", "quiet"),
        [
            (time(22), time(8), time(21, 59), False),
            (time(22), time(8), time(22, 0), True),
            (time(22), time(8), time(0, 30), True),
            (time(22), time(8), time(8, 0), False),
            (time(1), time(5), time(3, 0), True),
            (time(1), time(5), time(5, 0), False),
            (time(1), time(5), time(0, 59), False),
            (time(9), time(9), time(9, 0), False),  # an empty window
        ],
    )
    def test_window(self, start: time, end: time, local: time, quiet: bool) -> None:
        """Windows that span midnight and windows within one day, start inclusive and end exclusive."""
        window = QuietHours(start=start, end=end, timezone="UTC")
        at = datetime.combine(T0.date(), local, tzinfo=UTC)
        assert in_quiet_hours(at, window) is quiet

    def test_end_across_a_daylight_saving_change(self) -> None:
        """The night clocks go back in Berlin, quiet hours end at 08:00 CET, which is 07:00 UTC."""
        night = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 02:00 CET (after the change)
        assert quiet_hours_end(night, QUIET) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)


class TestRecordAndSnooze:
    def test_record_sent_once(self) -> None:
        """Recording a send moves the count; recording it again, or for an old cycle, changes nothing."""
        base = incident("INC-1")
        due = decide(base, SEV2, QUIET, T0 + 30 * MIN)
        assert isinstance(due, Due)
        sent = record_sent(base, due, T0 + 31 * MIN)
        assert (sent.reminders.sent, sent.reminders.last_sent_at) == (1, T0 + 31 * MIN)
        assert record_sent(sent, due, T0 + 32 * MIN) is sent
        touched = touch(base, T0 + 20 * MIN)
        assert cycle_of(touched) != due.cycle
        assert record_sent(touched, due, T0 + 31 * MIN) is touched

    def test_escalation_is_remembered(self) -> None:
        """The escalation send sets `escalated`, so the triage channel is told only once per quiet spell."""
        base = with_reminders(incident("INC-1"), sent=3, last_sent_at=T0)
        due = decide(base, SEV2, QUIET, T0 + 30 * MIN)
        assert isinstance(due, Due)
        assert due.escalation
        assert record_sent(base, due, T0 + 30 * MIN).reminders.escalated

    @pytest.mark.parametrize(
        ("choice", "now", "until"),
        [
            (SnoozeChoice.HOUR, T0, T0 + timedelta(hours=1)),
            (SnoozeChoice.FOUR_HOURS, T0, T0 + timedelta(hours=4)),
            (SnoozeChoice.TOMORROW, berlin(10, 12), berlin(11, 9)),
            (SnoozeChoice.TOMORROW, berlin(10, 23, 30), berlin(11, 9)),
            (SnoozeChoice.TOMORROW, berlin(11, 0, 30), berlin(12, 9)),  # after midnight: the next day
        ],
    )
    def test_snooze_until(self, choice: SnoozeChoice, now: datetime, until: datetime) -> None:
        """1 h, 4 h, or 09:00 on the next calendar day in the quiet-hours time zone."""
        assert snooze_until(choice, now, BERLIN) == until

    def test_snooze_keeps_the_count(self) -> None:
        """Snoozing is not activity: the reminder count and the cycle stay."""
        base = with_reminders(incident("INC-1"), sent=2, last_sent_at=T0)
        held = snooze(base, T0 + timedelta(hours=4), T0)
        assert held.reminders.sent == 2
        assert held.reminders.snoozed_until == T0 + timedelta(hours=4)
        assert cycle_of(held) == cycle_of(base)


class TestDigest:
    def test_counts_oldest_and_waiting_on(self) -> None:
        """Counts by severity and state, the oldest first, and per side the incidents that wait on it."""
        incidents = [
            incident("INC-1", Severity.SEV3, T0 - timedelta(days=3)),
            mlops_done(incident("INC-2", Severity.SEV1, T0 - timedelta(days=1))),
            incident("INC-3", Severity.SEV2, T0 - timedelta(hours=2), state=IncidentState.DECIDED),
            incident("INC-4", Severity.SEV1, T0 - timedelta(hours=1)),
            incident("INC-5", Severity.SEV4, T0 - timedelta(days=9), state=IncidentState.CLOSED),
        ]
        digest = build_digest(incidents, T0, T0.date(), oldest=2)
        assert digest.total == 4
        assert digest.by_severity == {Severity.SEV1: 2, Severity.SEV2: 1, Severity.SEV3: 1, Severity.SEV4: 0}
        assert digest.by_state == {
            IncidentState.OPEN: 0,
            IncidentState.INVESTIGATING: 3,
            IncidentState.DECIDED: 1,
            IncidentState.RESOLVED: 0,
        }
        assert [line.incident_id for line in digest.oldest] == ["INC-1", "INC-2"]
        assert [line.incident_id for line in digest.waiting_on[Side.MLOPS]] == ["INC-4", "INC-1"]
        assert [line.incident_id for line in digest.waiting_on[Side.DATAOPS]] == ["INC-2", "INC-4", "INC-1"]
        assert digest.oldest[0].idle_for == timedelta(days=3)

    def test_empty(self) -> None:
        """No active incidents: zero counts and empty lists, still a digest."""
        digest = build_digest([], T0, T0.date())
        assert digest.total == 0
        assert digest.oldest == []
        assert digest.waiting_on == {Side.MLOPS: [], Side.DATAOPS: []}
