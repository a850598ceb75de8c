"""Sending due reminders, escalations and the daily digest exactly once across replicas, and snoozing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog

from bot.config import HandoffConfig
from bot.domain.errors import NotAllowed
from bot.domain.incident import Incident
from bot.domain.models import Side, TimelineEntry
from bot.domain.permissions import Action
from bot.domain.reminders import (
    Due,
    QuietWindow,
    SnoozeChoice,
    build_digest,
    decide,
    local_day,
    record_sent,
    snooze,
    snooze_until,
    waiting_sides,
)
from bot.services.clock import Clock
from bot.services.directory import ResponderDirectory
from bot.slack import blocks
from bot.slack.gateway import SlackGateway
from bot.store.base import IncidentStore

log = structlog.get_logger(__name__)

# A claim is a lease, not a record: the record is ReminderState, written after the post. The lease outlives
# the slowest post (Slack retries with Retry-After), and expires so a replica that died holding it does not
# silence that reminder for good.
SEND_LEASE = timedelta(minutes=10)
DIGEST_CLAIM_TTL = timedelta(hours=36)  # longer than a day, so a late replica cannot post the same day again
DIGEST_WINDOW = timedelta(hours=6)  # how long after digest time a tick still sends a digest not yet sent
STALE_LIMIT = 1000  # stale incidents read per severity and sweep; oldest activity first
DIGEST_LIMIT = 5000


@dataclass
class SweepReport:
    """What one sweep read and sent (the benchmark and the logs use it)."""

    read: int = 0
    sent: list[str] = field(default_factory=list)  # once-tokens of the reminders this process sent
    escalated: list[str] = field(default_factory=list)  # incident ids
    failed: list[str] = field(default_factory=list)  # incident ids


class ReminderService:
    def __init__(
        self,
        config: HandoffConfig,
        store: IncidentStore,
        gateway: SlackGateway,
        directory: ResponderDirectory,
        clock: Clock,
        send_lease: timedelta = SEND_LEASE,
    ) -> None:
        self.config = config
        self.store = store
        self.gateway = gateway
        self.directory = directory
        self.clock = clock
        self.send_lease = send_lease

    @property
    def quiet(self) -> QuietWindow:
        return self.config.reminders.quiet_hours

    @property
    def timezone(self) -> str:
        return self.config.reminders.quiet_hours.timezone

    async def sweep(self, now: datetime | None = None) -> SweepReport:
        """Send the reminders and escalations due at `now`, reading only each severity's stale incidents."""
        now = now or self.clock()
        report = SweepReport()
        for severity, policy in self.config.severities.items():
            incidents = await self.store.stale(severity, policy.remind_every, now, limit=STALE_LIMIT)
            report.read += len(incidents)
            if len(incidents) == STALE_LIMIT:
                log.warning("reminders.sweep_limit", severity=severity.value, limit=STALE_LIMIT)
            for incident in incidents:
                due = decide(incident, policy, self.quiet, now)
                if not isinstance(due, Due):
                    continue
                try:
                    if await self._send(due, now):
                        report.sent.append(due.token)
                        if due.escalation:
                            report.escalated.append(incident.id)
                except Exception:
                    # One incident's failure (an archived channel, a Slack outage) must not stop the others.
                    log.exception("reminders.send_failed", incident_id=incident.id, number=due.number)
                    report.failed.append(incident.id)
        return report

    async def _send(self, due: Due, now: datetime) -> bool:
        """Claim the slot, re-check it against the stored incident, post, then record the send."""
        if not await self.store.claim_once(due.token, self.send_lease):
            return False
        try:
            incident = await self.store.get(due.incident_id)
            fresh = decide(incident, self.config.severities[incident.severity], self.quiet, now)
            # The sweep read a snapshot; what is stored now decides. Once a send is recorded this re-check,
            # not the lease, is what stops a second replica from sending the same slot again.
            if not isinstance(fresh, Due) or fresh.token != due.token:
                await self.store.release(due.token)
                return False
            await self._post_reminder(incident, fresh)
        except BaseException:
            await self.store.release(due.token)  # nothing was posted: let the next sweep try again
            raise
        await self.store.mutate(incident.id, lambda i: record_sent(i, fresh, now), self._entries(fresh, now))
        if fresh.escalation:
            await self._tell_triage(incident, fresh)
        log.info(
            "reminders.sent",
            incident_id=incident.id,
            number=fresh.number,
            escalation=fresh.escalation,
            sides=[s.value for s in fresh.sides],
        )
        return True

    async def _post_reminder(self, incident: Incident, due: Due) -> None:
        assert incident.channel_id is not None  # decide() returns Due only for incidents with a channel
        responders: dict[Side, Sequence[str]] = {
            side: await self.directory.members(side) for side in due.sides
        }
        leads: dict[Side, Sequence[str]] = {side: self.directory.leads(side) for side in due.sides}
        await self.gateway.post(
            incident.channel_id,
            blocks.reminder_text(incident, due),
            blocks.reminder_message(incident, due, responders, leads),
        )

    async def _tell_triage(self, incident: Incident, due: Due) -> None:
        """Best effort after the record: a failed triage post is logged, not retried with the reminder."""
        channel = self.config.triage_channel
        if channel is None:
            log.info("reminders.no_triage_channel", incident_id=incident.id)
            return
        leads: dict[Side, Sequence[str]] = {side: self.directory.leads(side) for side in due.sides}
        try:
            await self.gateway.post(
                channel, blocks.escalation_text(incident, due), blocks.escalation_notice(incident, due, leads)
            )
        except Exception:
            log.exception("reminders.triage_failed", incident_id=incident.id)

    @staticmethod
    def _entries(due: Due, now: datetime) -> Callable[[Incident, Incident], list[TimelineEntry]]:
        def entries(before: Incident, after: Incident) -> list[TimelineEntry]:
            sides = waiting_sides(due.owed)
            if due.escalation:
                text = f"Escalated to the leads and the triage channel: waiting on {sides}"
                kind = "escalation"
            else:
                text = f"Reminder {due.number} sent: waiting on {sides}"
                kind = "reminder"
            data = {"number": str(due.number), "sides": ",".join(s.value for s in due.sides)}
            return [TimelineEntry(at=now, kind=kind, text=text, data=data)]

        return entries

    async def digest(self, now: datetime | None = None) -> bool:
        """Post the day's digest to the triage channel once across replicas; False when not this process."""
        now = now or self.clock()
        channel = self.config.triage_channel
        if channel is None:
            log.info("reminders.digest_skipped", reason="no triage channel")
            return False
        day = local_day(now, self.timezone)
        token = f"digest:{day.isoformat()}"
        if not await self.store.claim_once(token, DIGEST_CLAIM_TTL):
            return False
        try:
            digest = build_digest(await self.store.list_active(limit=DIGEST_LIMIT), now, day)
            await self.gateway.post(channel, blocks.digest_text(digest), blocks.digest_message(digest))
        except BaseException:
            await self.store.release(token)
            raise
        log.info("reminders.digest_sent", day=day.isoformat(), total=digest.total)
        return True

    def digest_due(self, now: datetime) -> bool:
        """Whether `now` is in the window after today's digest time (quiet-hours time zone)."""
        tz = ZoneInfo(self.timezone)
        local = now.astimezone(tz)
        at: time = self.config.reminders.digest_at
        today = datetime.combine(local.date(), at, tzinfo=tz)
        return today <= now < today + DIGEST_WINDOW

    async def tick(self, now: datetime | None = None) -> SweepReport:
        """Sweep, and send today's digest if its time has come and no replica has sent it.

        Run at start-up and on every sweep tick, so a digest missed by a restart or refused by Slack at
        digest time still goes out (once: a sent digest's token turns every later attempt away).
        """
        now = now or self.clock()
        report = await self.sweep(now)
        if self.digest_due(now):
            try:
                await self.digest(now)
            except Exception:
                log.exception("reminders.digest_failed")
        return report

    async def snooze(self, incident_id: str, user_id: str, until: SnoozeChoice | datetime) -> datetime:
        """Hold an incident's reminders; who may is the permission table's (any responder or lead of either side
        by default); the timeline says who."""
        await self.directory.require(Action.SNOOZE, user_id, await self.store.get(incident_id))
        now = self.clock()
        end = snooze_until(until, now, self.timezone) if isinstance(until, SnoozeChoice) else until
        if end <= now:
            raise NotAllowed("A snooze must end in the future.")

        def entries(before: Incident, after: Incident) -> list[TimelineEntry]:
            return [
                TimelineEntry(
                    at=now,
                    kind="snooze",
                    text=f"Reminders snoozed until {end.isoformat()} by <@{user_id}>",
                    actor=user_id,
                    data={"until": end.isoformat()},
                )
            ]

        _, after = await self.store.mutate(incident_id, lambda i: snooze(i, end, now), entries)
        if after.channel_id:
            await self.gateway.post(after.channel_id, blocks.snoozed_text(after.id, user_id, end))
        log.info("reminders.snoozed", incident_id=incident_id, user_id=user_id, until=end.isoformat())
        return end
