"""From persisted alerts to incidents: dedup into the open incident, group by asset, note resolutions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

import structlog
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception_type, stop_after_attempt

from bot.domain.alerts import Alert, AlertStatus, alert_note, attach_alert, take_alert_notes
from bot.domain.errors import IncidentNotFound, LockFailed
from bot.domain.incident import Incident
from bot.domain.models import TimelineEntry
from bot.services.clock import Clock
from bot.services.incidents import IncidentService, OpenRequest
from bot.slack import blocks
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.store.alert_inbox import AlertInbox, Entry
from bot.store.base import IncidentStore
from bot.tasks import BackgroundTasks

log = structlog.get_logger(__name__)

ANNOUNCE_AFTER = 3.0  # seconds: alerts arriving within this burst are announced in one channel message
# Seconds between attempts at an opening Slack refused (a 429 outlasting the client's own retries, an outage);
# after the last, the start-up resume or the next alert for the incident finishes it.
OPENING_RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)
# A lane's group lock lapses this long after its holder died; a lane waits this long for it before leaving its
# entries pending (reclaimed later).
GROUP_LOCK_LEASE = timedelta(seconds=30)
GROUP_LOCK_WAIT = timedelta(seconds=120)


def _group_lock_name(alert: Alert) -> str:
    # Alerts on the same asset must not race each other into two incidents: lock on the asset when there is one.
    if alert.assets:
        first = sorted(str(a) for a in alert.assets)[0]
        return f"alert-group:{first}"
    return f"alert-key:{alert.dedup_key}"


def _opening_retry_in(attempt: int) -> float | None:
    """Seconds before the attempt after `attempt` (1-based); None after the last."""
    return OPENING_RETRY_DELAYS[attempt - 1] if attempt <= len(OPENING_RETRY_DELAYS) else None


class AlertService:
    """Consumes the alert inbox; each alert lands on exactly one incident, never a second one for its key."""

    def __init__(
        self,
        inbox: AlertInbox,
        store: IncidentStore,
        incidents: IncidentService,
        gateway: SlackGateway,
        clock: Clock,
        group_window: timedelta,
        announce_after: float = ANNOUNCE_AFTER,
        concurrency: int = 32,
        reclaim_idle_ms: int = 30_000,
    ) -> None:
        self.inbox = inbox
        self.store = store
        self.incidents = incidents
        self.gateway = gateway
        self.clock = clock
        self.group_window = group_window
        self.announce_after = announce_after
        self.reclaim_idle_ms = reclaim_idle_ms
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._slots = asyncio.Semaphore(concurrency)
        self._background = BackgroundTasks("alerts")
        # Incidents with an opener / an announcer task in this process: later alerts leave the work to it.
        self._opening: set[str] = set()
        self._announcing: set[str] = set()

    # --- The consumer loop -------------------------------------------------------------------------------

    async def run(self, reclaim_idle_ms: int | None = None) -> None:
        """Process alerts until cancelled; first take over entries a crashed consumer left unacknowledged."""
        reclaim_idle_ms = self.reclaim_idle_ms if reclaim_idle_ms is None else reclaim_idle_ms
        await self.inbox.ensure_group()
        await self._announce_pending()
        try:
            while True:
                try:
                    entries = await self.inbox.reclaim(self.consumer, reclaim_idle_ms)
                    entries += await self.inbox.consume(self.consumer, block_ms=1000, count=200)
                    if entries:
                        await self._process(entries)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("alerts.consumer_failed")
                    await asyncio.sleep(1)
        finally:
            # Openings and announcements end with the consumer, releasing their locks and claims before the
            # bot closes Redis (the next start-up resumes the openings and announces the pending notes).
            await self._background.cancel()

    async def _process(self, entries: Sequence[Entry]) -> None:
        """Entries sharing a group lock run one after another in stream order, the groups concurrently.

        In order, the first alert of a payload is the one that opens the incident; and no alert waits on a
        Redis lock held by its neighbour in this process (the lock polls every 0.1 s, which spread one
        payload's alerts over several channel messages and made a storm crawl).
        """
        lanes: dict[str, list[Entry]] = {}
        for entry in entries:
            lanes.setdefault(_group_lock_name(entry[1]), []).append(entry)
        await asyncio.gather(*(self._process_lane(lane) for lane in lanes.values()))

    async def _process_lane(self, lane: Sequence[Entry]) -> None:
        async with self._slots:
            try:
                # One lock for the lane: its alerts share it, and taking it once per alert cost two round trips.
                async with self._group_lock(lane[0][1]):
                    for entry_id, alert in lane:
                        try:
                            await self._handle_locked(alert)
                        except Exception:
                            # Not acked: the entry stays pending and is reclaimed later (dead-lettered after
                            # max deliveries).
                            log.exception("alerts.process_failed", dedup_key=alert.dedup_key)
                            continue
                        await self.inbox.ack([entry_id])
            except LockFailed:
                # Not taken in time (entries stay pending, reclaimed later), or held past its timeout.
                log.exception("alerts.group_lock_failed", entries=len(lane))

    async def drain(self) -> int:
        """Process everything waiting now (tests, the demo, start-up); returns how many were processed."""
        await self.inbox.ensure_group()
        done = 0
        while True:
            entries = await self.inbox.consume(self.consumer, None, 500)
            if not entries:
                break
            await self._process(entries)
            done += len(entries)
        await self.settle()
        return done

    async def settle(self) -> None:
        """Wait for the background openings and announcements started so far (and those they start)."""
        await self._background.drain()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._background.spawn(coro, event="alerts.background_failed")

    # --- One alert ---------------------------------------------------------------------------------------

    async def _active(self, incident_id: str | None) -> Incident | None:
        if not incident_id:
            return None
        with contextlib.suppress(IncidentNotFound):
            incident = await self.store.get(incident_id)
            return incident if incident.active else None
        return None

    async def _lookup(self, alert: Alert) -> Incident | None:
        incident = await self._active(await self.store.incident_for_alert(alert.dedup_key))
        if incident is not None:
            return incident
        for asset in alert.assets:
            incident = await self._active(await self.store.incident_for_asset(asset))
            if incident is not None:
                return incident
        return None

    def _group_lock(self, alert: Alert) -> AbstractAsyncContextManager[None]:
        return self.store.lock(_group_lock_name(alert), lease=GROUP_LOCK_LEASE, wait=GROUP_LOCK_WAIT)

    async def handle(self, alert: Alert) -> str | None:
        """Attach the alert to its incident, or open one; returns the incident id (None: nothing to do)."""
        async with self._group_lock(alert):
            return await self._handle_locked(alert)

    async def _handle_locked(self, alert: Alert) -> str | None:
        incident = await self._lookup(alert)
        if incident is None:
            if alert.status is AlertStatus.RESOLVED:
                log.info("alerts.resolved_without_incident", dedup_key=alert.dedup_key)
                return None
            incident = await self._open(alert)
        else:
            incident = await self._attach(incident, alert)
        await self._bind(incident.id, alert)
        self._follow_up(incident)
        return incident.id

    def _follow_up(self, incident: Incident) -> None:
        """Finish the opening, or announce the alert; one task per incident and process does either.

        An alert whose incident already has its task here leaves the work to it: the opener announces what
        is pending once the channel is open, and an announcer looks again for notes after it stops counting
        itself as the incident's announcer (so a note is never left without one).
        """
        if not incident.opening.done:
            if incident.id not in self._opening:
                self._opening.add(incident.id)
                self._spawn(self._finish_opening(incident.id))
        elif incident.id not in self._announcing:
            self._announcing.add(incident.id)
            self._spawn(self._announce(incident.id))

    async def _announce_pending(self) -> None:
        """At start-up: announce notes a previous process took in but never posted (it stopped meanwhile)."""
        try:
            for incident in await self.store.list_active(limit=1000):
                if incident.alert_notes and incident.opening.done:
                    self._follow_up(incident)
        except Exception:
            log.exception("alerts.announce_pending_failed")

    async def _bind(self, incident_id: str, alert: Alert) -> None:
        await self.store.bind_alert(incident_id, alert.dedup_key, alert.assets, self.group_window)

    async def _open(self, alert: Alert) -> Incident:
        title = alert.summary or alert.labels.get("alertname") or alert.dedup_key
        description = "\n".join(
            f"{k}: {v}" for k, v in {**alert.labels, **alert.annotations}.items() if k not in ("summary",)
        )
        incident, _ = await self.incidents.open_record(
            OpenRequest(
                title=title[:150],
                severity=alert.severity,
                origin="alert",
                assets=list(alert.assets),
                description=f"Opened by an alert from {alert.source}.\n{description}"[:2900],
                idempotency_key=None,
                alert_keys=[alert.dedup_key],
                labels=dict(alert.labels),
            )
        )
        log.info("alerts.opened_incident", incident_id=incident.id, dedup_key=alert.dedup_key)
        return incident

    async def _attach(self, incident: Incident, alert: Alert) -> Incident:
        now = self.clock()
        note = alert_note(alert)

        def entry(before: Incident, after: Incident) -> Sequence[TimelineEntry]:
            return [TimelineEntry(at=now, kind="alert", text=note, data={"dedup_key": alert.dedup_key})]

        _, after = await self.store.mutate(incident.id, lambda i: attach_alert(i, alert, now), entry)
        return after

    async def _finish_opening(self, incident_id: str) -> None:
        try:
            incident = await self._open_with_retries(incident_id)
        finally:
            self._opening.discard(incident_id)
        # Alerts attached before the opening was done left their notes to us; later ones start an announcer.
        if incident is not None and incident.alert_notes and incident_id not in self._announcing:
            self._announcing.add(incident_id)
            await self._announce(incident_id)

    async def _open_with_retries(self, incident_id: str) -> Incident | None:
        """The opened incident; None when Slack still refused after the last of OPENING_RETRY_DELAYS.

        The record exists and its alerts are acked: if Slack refuses the opening (rate limits outlasting the
        client's retries when many incidents open at once), try again here rather than leave the incident
        without a channel until the next alert for it or the next start-up.
        """

        def failed(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            retry_in = _opening_retry_in(state.attempt_number)
            log.error(
                "alerts.opening_failed",
                incident_id=incident_id,
                attempt=state.attempt_number,
                retry_in=retry_in,
                exc_info=error,
            )

        retrying = AsyncRetrying(
            stop=stop_after_attempt(len(OPENING_RETRY_DELAYS) + 1),
            wait=lambda state: _opening_retry_in(state.attempt_number) or 0.0,
            retry=retry_if_exception_type(Exception),
            after=failed,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self.incidents.continue_opening(incident_id)
        except RetryError:
            return None
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _announce(self, incident_id: str) -> None:
        """One channel message per burst: the first alert of a burst waits, then posts everything pending.

        Runs with the incident in `_announcing`. Another process holding the claim announces for us (it
        looks again after its release); notes wait until the opening is done, when the opener announces.
        """
        token = f"alert-announce:{incident_id}"
        while True:
            try:
                try:
                    claimed = await self.store.claim_once(token, timedelta(seconds=self.announce_after * 10))
                except asyncio.CancelledError:
                    # Stopped with the claim in flight: it may be ours, and would bar the next start-up's
                    # announcer until it expires. (Were it another process's, the cost is one more message.)
                    await self.store.release(token)
                    raise
                if not claimed:
                    return
                try:
                    await asyncio.sleep(self.announce_after)
                    await self._post_notes(incident_id)
                finally:
                    await self.store.release(token)
            finally:
                self._announcing.discard(incident_id)
            # A note attached after ours were taken, by an alert that saw us announcing: the next burst.
            current = await self.store.get(incident_id)
            if not (current.alert_notes and current.opening.done) or incident_id in self._announcing:
                return
            self._announcing.add(incident_id)

    async def _post_notes(self, incident_id: str) -> None:
        notes: list[str] = []

        def take(i: Incident) -> Incident:
            taken, pending = take_alert_notes(i)
            notes[:] = pending  # a retried mutation starts again from what it read
            return taken

        _, incident = await self.store.mutate(incident_id, take, lambda b, a: [])
        if not notes or incident.channel_id is None:
            return
        all_resolved = bool(incident.alert_keys) and not incident.alerts_firing
        text = blocks.alert_updates_text(incident.id, notes, all_resolved)
        try:
            await self.gateway.post(incident.channel_id, text)
        except SlackCallFailed:
            log.exception("alerts.announce_failed", incident_id=incident_id)
