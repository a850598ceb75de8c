"""Which reminders are due (cadence, snooze, quiet hours, escalation) and the daily digest, as pure values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from bot.domain.incident import Incident
from bot.domain.models import IncidentState, Severity, Side
from bot.domain.state import ACTIVE_STATES

SNOOZE_MORNING = time(9, 0)  # "until tomorrow" means this local time on the next calendar day


class ReminderPolicy(Protocol):
    """A severity's reminder policy; bot.config.SeverityPolicy fits it (the domain cannot import config)."""

    @property
    def remind_every(self) -> timedelta: ...

    @property
    def escalate_after(self) -> int: ...

    @property
    def quiet_hours(self) -> bool: ...


class QuietWindow(Protocol):
    """Local hours without reminders (bot.config.QuietHours satisfies it)."""

    @property
    def start(self) -> time: ...

    @property
    def end(self) -> time: ...

    @property
    def timezone(self) -> str: ...


class Wait(StrEnum):
    """Why nothing is sent now."""

    NOT_AWAITING = "not_awaiting"  # decided, resolved or closed: no evidence or confirmation is owed
    NO_CHANNEL = "no_channel"  # the opening has not created the channel yet
    NOTHING_OWED = "nothing_owed"
    NOT_YET = "not_yet"
    SNOOZED = "snoozed"
    QUIET_HOURS = "quiet_hours"


@dataclass(frozen=True)
class Nothing:
    """No reminder now; `until` is when one may next fall due, when that is known."""

    reason: Wait
    until: datetime | None = None


@dataclass(frozen=True)
class Due:
    """Reminder `number` since the last activity is due; the escalation one also goes to leads and triage."""

    incident_id: str
    cycle: str  # the last activity this reminder counts from: reminder numbers restart at every activity
    number: int
    owed: Mapping[Side, tuple[str, ...]]
    escalation: bool = False
    mention_leads: bool = False  # the escalation and every reminder after it also name the leads
    due_at: datetime | None = None
    idle_for: timedelta = field(default=timedelta(0))

    @property
    def sides(self) -> tuple[Side, ...]:
        return tuple(self.owed)

    @property
    def token(self) -> str:
        """The once-token of this slot: one send per incident, activity cycle and reminder number."""
        return f"reminder:{self.incident_id}:{self.cycle}:{self.number}"


Decision = Nothing | Due


def cycle_of(incident: Incident) -> str:
    """Milliseconds of the last activity: two activities within a millisecond are one cycle."""
    return str(int(incident.last_activity_at.timestamp() * 1000))


def next_due_at(incident: Incident, policy: ReminderPolicy) -> datetime:
    """One cadence after the last activity, then one cadence after each reminder actually sent.

    Counting from the last send (not from the activity) means a bot that was down for hours sends one late
    reminder when it comes back, not a burst of all the ones it missed.
    """
    state = incident.reminders
    anchor = state.last_sent_at if state.sent and state.last_sent_at else incident.last_activity_at
    return anchor + policy.remind_every


def in_quiet_hours(now: datetime, quiet: QuietWindow) -> bool:
    if quiet.start == quiet.end:
        return False
    local = now.astimezone(ZoneInfo(quiet.timezone)).time()
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # the window spans midnight


def quiet_hours_end(now: datetime, quiet: QuietWindow) -> datetime:
    """The next time the local clock reads `quiet.end` (as UTC): when reminders held in quiet hours go out."""
    tz = ZoneInfo(quiet.timezone)
    today = now.astimezone(tz).date()
    end = datetime.combine(today, quiet.end, tzinfo=tz)
    if end <= now:
        end = datetime.combine(today + timedelta(days=1), quiet.end, tzinfo=tz)
    return end.astimezone(UTC)


def decide(incident: Incident, policy: ReminderPolicy, quiet: QuietWindow | None, now: datetime) -> Decision:
    """Whether a reminder (or the escalation) is due for `incident` at `now`, and to which sides."""
    if not incident.awaiting_decision:
        return Nothing(Wait.NOT_AWAITING)
    if incident.channel_id is None:
        return Nothing(Wait.NO_CHANNEL)
    owed = incident.owing()
    if not owed:
        return Nothing(Wait.NOTHING_OWED)
    due_at = next_due_at(incident, policy)
    if now < due_at:
        return Nothing(Wait.NOT_YET, due_at)
    state = incident.reminders
    if state.snoozed_until is not None and now < state.snoozed_until:
        return Nothing(Wait.SNOOZED, state.snoozed_until)
    if policy.quiet_hours and quiet is not None and in_quiet_hours(now, quiet):
        return Nothing(Wait.QUIET_HOURS, quiet_hours_end(now, quiet))
    number = state.sent + 1
    escalation = not state.escalated and number > policy.escalate_after
    return Due(
        incident_id=incident.id,
        cycle=cycle_of(incident),
        number=number,
        owed={side: tuple(lines) for side, lines in owed.items()},
        escalation=escalation,
        mention_leads=escalation or state.escalated,
        due_at=due_at,
        idle_for=now - incident.last_activity_at,
    )


def record_sent(incident: Incident, due: Due, now: datetime) -> Incident:
    """The incident with `due` recorded as sent; unchanged if activity or another sender got there first."""
    state = incident.reminders
    if cycle_of(incident) != due.cycle or state.sent >= due.number:
        return incident
    sent = state.model_copy(
        update={
            "sent": due.number,
            "last_sent_at": now,
            "escalated": state.escalated or due.escalation,
            "snoozed_until": None,
        }
    )
    return incident.model_copy(update={"reminders": sent, "updated_at": now})


class SnoozeChoice(StrEnum):
    HOUR = "1h"
    FOUR_HOURS = "4h"
    TOMORROW = "tomorrow"

    @property
    def label(self) -> str:
        return {"1h": "Snooze 1 h", "4h": "Snooze 4 h", "tomorrow": "Until tomorrow 09:00"}[self.value]


def snooze_until(choice: SnoozeChoice, now: datetime, timezone: str) -> datetime:
    """When a snooze ends: in 1 h, in 4 h, or at 09:00 local time on the next calendar day."""
    if choice is SnoozeChoice.HOUR:
        return now + timedelta(hours=1)
    if choice is SnoozeChoice.FOUR_HOURS:
        return now + timedelta(hours=4)
    tz = ZoneInfo(timezone)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, SNOOZE_MORNING, tzinfo=tz).astimezone(UTC)


def snooze(incident: Incident, until: datetime, now: datetime) -> Incident:
    """Hold the incident's reminders until `until`; a snooze is not activity, so the count is kept."""
    state = incident.reminders.model_copy(update={"snoozed_until": until})
    return incident.model_copy(update={"reminders": state, "updated_at": now})


# --- The daily digest --------------------------------------------------------------------------------------


class DigestLine(BaseModel):
    """One incident as the digest lists it."""

    model_config = ConfigDict(frozen=True)

    incident_id: str
    title: str
    severity: Severity
    state: IncidentState
    channel_id: str | None
    opened_at: datetime
    idle_for: timedelta


class Digest(BaseModel):
    """The open incidents on one day: counts by severity and state, the oldest, who each side owes."""

    model_config = ConfigDict(frozen=True)

    day: date
    total: int
    by_severity: dict[Severity, int]
    by_state: dict[IncidentState, int]
    oldest: list[DigestLine]
    waiting_on: dict[Side, list[DigestLine]]


def _line(incident: Incident, now: datetime) -> DigestLine:
    return DigestLine(
        incident_id=incident.id,
        title=incident.title,
        severity=incident.severity,
        state=incident.state,
        channel_id=incident.channel_id,
        opened_at=incident.created_at,
        idle_for=max(timedelta(0), now - incident.last_activity_at),
    )


def local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def build_digest(incidents: Iterable[Incident], now: datetime, day: date, oldest: int = 5) -> Digest:
    """The digest of the active incidents among `incidents`; severity first, then age, in every list."""
    active = sorted((i for i in incidents if i.active), key=lambda i: (i.severity.value, i.created_at))
    by_severity = {sev: sum(1 for i in active if i.severity is sev) for sev in Severity}
    by_state = {
        state: sum(1 for i in active if i.state is state) for state in IncidentState if state in ACTIVE_STATES
    }
    waiting: dict[Side, list[DigestLine]] = {side: [] for side in Side}
    for incident in active:
        if incident.awaiting_decision:
            for side in incident.owing():
                waiting[side].append(_line(incident, now))
    by_age = sorted(active, key=lambda i: i.created_at)[:oldest]
    return Digest(
        day=day,
        total=len(active),
        by_severity=by_severity,
        by_state=by_state,
        oldest=[_line(i, now) for i in by_age],
        waiting_on=waiting,
    )


def waiting_sides(owed: Mapping[Side, Iterable[str]]) -> str:
    """`MLOps and DataOps`, `DataOps`: the sides a reminder names, in a fixed order."""
    return " and ".join(side.label for side in Side if side in owed)
