"""What the app answered: one ``Ack`` per request (HTTP response or Socket Mode ack), and event deliveries."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from slack_sandbox.models import JSON


@dataclass
class Ack:
    """The app's answer to one request, and how long it took (measured on Slack's side)."""

    kind: str
    status: int | None
    body: str
    headers: dict[str, str]
    elapsed: float
    timed_out: bool = False
    error: str | None = None
    retry_num: int = 0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.timed_out

    def json(self) -> Any:
        """The body parsed as JSON; None when empty or not JSON (Bolt's plain ``ack()`` is empty)."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def response_action(self) -> str | None:
        data = self.json()
        return data.get("response_action") if isinstance(data, dict) else None

    @property
    def errors(self) -> dict[str, str]:
        """``response_action: errors`` of a view submission, keyed by block_id."""
        data = self.json()
        if isinstance(data, dict) and data.get("response_action") == "errors":
            return dict(data.get("errors") or {})
        return {}


@dataclass
class EventDelivery:
    """One event and every attempt to deliver it (the first, then Slack's retries)."""

    event_id: str
    envelope: JSON
    attempts: list[Ack] = field(default_factory=list)
    _done: Future[None] = field(default_factory=Future, repr=False)

    @property
    def ack(self) -> Ack | None:
        return self.attempts[0] if self.attempts else None

    @property
    def acknowledged(self) -> bool:
        return any(a.ok for a in self.attempts)

    @property
    def done(self) -> bool:
        return self._done.done()

    def _finish(self) -> None:
        if not self._done.done():
            self._done.set_result(None)

    async def wait(self) -> EventDelivery:
        """Wait until Slack stops trying (acknowledged, told not to retry, or retries exhausted)."""
        await asyncio.wrap_future(self._done)
        return self
