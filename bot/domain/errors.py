"""Every error a service or listener handles: the domain's (raised by the pure core, shown to the person who
acted) and the store's (raised by persistence, defined here so that no caller imports the store to catch them).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error a user can cause; its message is safe to show in Slack."""


class IllegalTransition(DomainError):
    """An event that the incident's current state does not allow."""


class NotAllowed(DomainError):
    """The person acting is not allowed to act for that side or incident."""


class InvalidInput(DomainError):
    """What a person typed or a payload carried does not fit; the message says how to fix it."""


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


class StoreUnavailable(StoreError):
    """The store could not be reached or refused the command (connection lost, timed out, out of memory)."""


class LockFailed(StoreError):
    """A lock was not taken within its wait, or was lost (its lease ran out) before it was given back."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Lock {name}: {reason}.")
        self.name = name


class IntakeUnavailable(StoreUnavailable):
    """Accepted alerts could not be kept: the sender must retry (nothing was acknowledged)."""
