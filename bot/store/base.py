"""The store's interfaces: everything the services need from persistence, and nothing about how it is kept.

The errors they raise (IncidentNotFound, Conflict, StoreUnavailable, LockFailed) are defined in
bot.domain.errors, so that services and listeners catch them without importing the store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.incident import Incident
from bot.domain.models import Asset, Severity, TimelineEntry
from playbooks.results import PlaybookRun

Mutation = Callable[[Incident], Incident | Awaitable[Incident]]


class IncidentStore(Protocol):
    """Incidents, their timelines, the indexes the bot reads them by, once-tokens, locks, playbook runs."""

    async def next_id(self, now: datetime) -> str: ...

    async def create(
        self, incident: Incident, entries: Sequence[TimelineEntry] = (), idempotency_key: str | None = None
    ) -> tuple[Incident, bool]:
        """Store a new incident; with an idempotency key already used, return that incident and False."""
        ...

    async def get(self, incident_id: str) -> Incident:
        """The incident, or IncidentNotFound."""
        ...

    async def find_by_channel(self, channel_id: str) -> Incident | None: ...

    async def update(self, incident: Incident, entries: Sequence[TimelineEntry] = ()) -> Incident:
        """Write `incident` if the stored version is still `incident.version`; else raise Conflict."""
        ...

    async def mutate(
        self,
        incident_id: str,
        change: Mutation,
        entries: Callable[[Incident, Incident], Sequence[TimelineEntry]],
    ) -> tuple[Incident, Incident]:
        """Read, change and write with optimistic concurrency, retrying on conflict; returns (before, after).

        A change that returns the incident unchanged writes nothing. Conflict once the retries are spent.
        """
        ...

    async def timeline(self, incident_id: str) -> list[TimelineEntry]: ...

    async def list_active(self, limit: int = 100) -> list[Incident]: ...

    async def stale(
        self, severity: Severity, idle_for: timedelta, now: datetime, limit: int = 500
    ) -> list[Incident]:
        """Active incidents of that severity with no activity for `idle_for`: read from the activity index."""
        ...

    async def bind_channel(self, channel_id: str, incident_id: str) -> None: ...

    # --- Alerts ------------------------------------------------------------------------------------------

    async def bind_alert(
        self, incident_id: str, dedup_key: str, assets: Sequence[Asset], window: timedelta
    ) -> None:
        """The alert key belongs to the incident from now on; each asset does for `window` (grouping).

        Both at once: a reader never sees the key bound and its assets not yet.
        """
        ...

    async def incident_for_alert(self, dedup_key: str) -> str | None:
        """The id of the incident the alert key was last bound to (active or not), if any."""
        ...

    async def incident_for_asset(self, asset: Asset) -> str | None:
        """The id of the incident an alert on the asset was bound to within its window, if any."""
        ...

    # --- Once-tokens and locks ---------------------------------------------------------------------------

    async def claim_once(self, token: str, ttl: timedelta) -> bool:
        """True for the first caller of `token` within `ttl`, across processes (a reminder slot, a decision)."""
        ...

    async def extend(self, token: str, ttl: timedelta) -> bool:
        """Renew a claimed token's lease; False when it had expired (someone may have taken it)."""
        ...

    async def release(self, token: str) -> None:
        """Give a claimed token back (a lock held for the duration of a step)."""
        ...

    def lock(self, name: str, *, lease: timedelta, wait: timedelta) -> AbstractAsyncContextManager[None]:
        """Hold the lock `name` for the block, across processes; waits up to `wait` for it.

        The lock lapses after `lease` if its holder dies. LockFailed when it is not taken within `wait`, or
        when it lapsed before the block ended (someone else may have held it meanwhile).
        """
        ...

    # --- Playbook runs -----------------------------------------------------------------------------------

    async def save_run(self, run: PlaybookRun, ttl: timedelta) -> None:
        """Keep a finished playbook run for `ttl`, for whoever looks into the incident afterwards."""
        ...

    async def get_run(self, run_id: str) -> PlaybookRun | None:
        """The run, or None when it was never saved or has expired."""
        ...

    async def ping(self) -> bool: ...


@dataclass(frozen=True)
class RunRequest:
    """A playbook run asked for by the Slack-facing process, for a worker to carry out."""

    run_id: str
    incident_id: str
    playbook: str
    user_id: str | None = None  # who pressed Run; None when the incident's opening started it


@dataclass(frozen=True)
class ClaimedRun:
    """A run request handed to one worker: `resumed` when another worker had it before and stopped."""

    entry_id: str
    request: RunRequest
    deliveries: int = 1
    resumed: bool = False


class RunQueue(Protocol):
    """Playbook run requests, each held by one worker under a lease until acked (at least once delivery).

    A worker renews the lease of what it holds; a request whose lease lapsed (its worker died) is taken over
    by another worker's `reclaim`.
    """

    async def enqueue(self, request: RunRequest) -> str:
        """Queue the request; its entry id."""
        ...

    async def claim(self, consumer: str, count: int, block_ms: int | None) -> list[ClaimedRun]:
        """Up to `count` requests never handed out before, waiting up to `block_ms` (None: not at all)."""
        ...

    async def reclaim(self, consumer: str, idle_ms: int, count: int) -> list[ClaimedRun]:
        """Take over up to `count` requests whose holder has not renewed them for `idle_ms` (resumed=True)."""
        ...

    async def renew(self, consumer: str, entry_id: str) -> bool:
        """Renew the lease; False when the request is no longer this consumer's (taken over, or acked)."""
        ...

    async def ack(self, entry_id: str) -> None:
        """The request is done (or given up): never handed out again."""
        ...

    async def remember_message(self, run_id: str, ts: str, ttl: timedelta) -> None:
        """The ts of the run's progress message, for a worker that resumes the run to update it."""
        ...

    async def message_of(self, run_id: str) -> str | None: ...
