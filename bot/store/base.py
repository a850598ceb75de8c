"""The IncidentStore interface and its errors: what the services need from persistence."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.incident import Incident
from bot.domain.models import Severity, TimelineEntry


class StoreError(Exception):
    """Base of the store's errors."""


class IncidentNotFound(StoreError):
    def __init__(self, incident_id: str) -> None:
        super().__init__(f"No incident {incident_id}.")
        self.incident_id = incident_id


class Conflict(StoreError):
    """An update was based on a stale version: someone else changed the incident in between."""

    def __init__(self, incident_id: str, expected: int) -> None:
        super().__init__(f"Incident {incident_id} changed since version {expected}.")
        self.incident_id = incident_id
        self.expected = expected


Mutation = Callable[[Incident], Incident | Awaitable[Incident]]


class IncidentStore(Protocol):
    """Incidents, their timelines and the indexes the bot reads them by."""

    async def next_id(self, now: datetime) -> str: ...

    async def create(
        self, incident: Incident, entries: Sequence[TimelineEntry] = (), idempotency_key: str | None = None
    ) -> tuple[Incident, bool]:
        """Store a new incident; with an idempotency key already used, return that incident and False."""
        ...

    async def get(self, incident_id: str) -> Incident: ...

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
        """Read, change and write with optimistic concurrency, retrying on conflict; returns (before, after)."""
        ...

    async def timeline(self, incident_id: str) -> list[TimelineEntry]: ...

    async def list_active(self, limit: int = 100) -> list[Incident]: ...

    async def stale(
        self, severity: Severity, idle_for: timedelta, now: datetime, limit: int = 500
    ) -> list[Incident]:
        """Active incidents of that severity with no activity for `idle_for`: read from the activity index."""
        ...

    async def bind_channel(self, channel_id: str, incident_id: str) -> None: ...

    async def claim_once(self, token: str, ttl: timedelta) -> bool:
        """True for the first caller of `token` within `ttl`, across processes (a reminder slot, a decision)."""
        ...

    async def extend(self, token: str, ttl: timedelta) -> bool:
        """Renew a claimed token's lease; False when it had expired (someone may have taken it)."""
        ...

    async def release(self, token: str) -> None:
        """Give a claimed token back (a lock held for the duration of a step)."""
        ...

    async def ping(self) -> bool: ...
