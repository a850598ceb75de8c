"""Exceptions: Slack API errors raised by method handlers, and misuse of the test-facing API."""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """A Web API business error: answered as HTTP 200 ``{"ok": false, "error": code, ...}``."""

    def __init__(self, code: str, *, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages or []
        self.extra = extra


class SandboxError(Exception):
    """The test used the stand-in in a way a person in Slack could not (or the stand-in misbehaved)."""


class NotFoundError(SandboxError, LookupError):
    """Nothing visible to the person matched (a button text, a view, an input label, a user...)."""


class AmbiguousError(SandboxError):
    """More than one thing matched; narrow it with block_id=, action_id=, value= or message_ts=."""


class ClientSideError(SandboxError):
    """Slack's own client would refuse this (e.g. submitting a modal with a required input empty)."""
