"""Errors of the playbook package: what a caller did wrong, and why a step could not produce evidence."""

from __future__ import annotations


class PlaybookError(Exception):
    """Base class; the message is safe to show to a person (it never carries a secret)."""


class UnknownStepKind(PlaybookError):
    """A step kind that the registry has no executor for."""


class ParameterError(PlaybookError):
    """A run was asked for with a parameter the playbook does not declare, or a bad value."""


class PlaybookNotFound(PlaybookError):
    """No loaded playbook has that name."""


class StepError(Exception):
    """A step could not produce evidence (bad answer, missing table, 4xx); retrying will not help."""


class TransientStepError(StepError):
    """A step failed in a way that may pass on a retry (5xx, a dropped connection, a statement timeout)."""
