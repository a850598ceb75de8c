"""Domain errors: raised by the pure core, mapped to user-facing messages by the shell."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error a user can cause; its message is safe to show in Slack."""


class IllegalTransition(DomainError):
    """An event that the incident's current state does not allow."""


class NotAllowed(DomainError):
    """The person acting is not allowed to act for that side or incident."""


class InvalidInput(DomainError):
    """What a person typed or a payload carried does not fit; the message says how to fix it."""
