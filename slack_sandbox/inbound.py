"""Requests from Slack to the app: signed, timed against the ack deadline, events retried like Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from slack_sandbox.config import SandboxConfig
from slack_sandbox.errors import SandboxError
from slack_sandbox.models import JSON
from slack_sandbox.signing import signed_headers
from slack_sandbox.workspace import Workspace

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


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


class Inbound:
    """Runs in the stand-in's own loop, so a slow app cannot stall Slack's side or its clock on acks."""

    def __init__(
        self,
        ws: Workspace,
        config: SandboxConfig,
        signing_secret: str,
        request_url: Callable[[], str | None],
    ) -> None:
        self.ws = ws
        self.config = config
        self.signing_secret = signing_secret
        self.request_url = request_url
        self._client: httpx.AsyncClient | None = None
        self._open = False
        self.deliveries: list[EventDelivery] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self._open = True

    def _http(self) -> httpx.AsyncClient:
        # Made on first use: building one loads CA certificates, which most tests never need.
        if self._client is None:
            self._client = httpx.AsyncClient(trust_env=False)
        return self._client

    async def close(self) -> None:
        self._open = False
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def post(
        self,
        kind: str,
        body: str,
        content_type: str,
        *,
        retry_num: int = 0,
        retry_reason: str | None = None,
    ) -> Ack:
        url = self.request_url()
        if not url:
            raise SandboxError("request_url is not set: point the stand-in at the app's /slack/events URL")
        if not self._open:
            raise SandboxError("the stand-in is not started")
        headers = {
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            **signed_headers(self.signing_secret, body),
        }
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_error"
        start = time.monotonic()
        try:
            # Slack gives up on the whole exchange after the deadline, not per read.
            resp = await asyncio.wait_for(
                self._http().post(url, content=body.encode(), headers=headers, timeout=None),
                timeout=self.config.ack_timeout,
            )
            ack = Ack(
                kind=kind,
                status=resp.status_code,
                body=resp.text,
                headers={k.lower(): v for k, v in resp.headers.items()},
                elapsed=time.monotonic() - start,
                retry_num=retry_num,
            )
        except (TimeoutError, httpx.TimeoutException):
            ack = Ack(kind, None, "", {}, time.monotonic() - start, timed_out=True, retry_num=retry_num)
        except httpx.HTTPError as exc:
            ack = Ack(
                kind,
                None,
                "",
                {},
                time.monotonic() - start,
                error=str(exc) or type(exc).__name__,
                retry_num=retry_num,
            )
        self._judge(ack)
        return ack

    def _judge(self, ack: Ack) -> None:
        where = f"{ack.kind}{f' (retry {ack.retry_num})' if ack.retry_num else ''}"
        if ack.timed_out or ack.elapsed > self.config.ack_timeout:
            self.ws.record_violation(
                "late_ack",
                f"{where} not acknowledged within {self.config.ack_timeout:g}s ({ack.elapsed:.2f}s)",
            )
        elif ack.error:
            self.ws.record_violation("ack_connection_failed", f"{where}: {ack.error}")
        elif not ack.ok:
            self.ws.record_violation(
                "ack_http_error", f"{where} answered HTTP {ack.status}: {ack.body[:200]}"
            )

    async def send_form(self, kind: str, fields: dict[str, str]) -> Ack:
        return await self.post(kind, urlencode(fields), "application/x-www-form-urlencoded")

    async def send_interaction(self, kind: str, payload: JSON) -> Ack:
        # Interactions arrive form-encoded as one ``payload`` field holding JSON.
        return await self.send_form(kind, {"payload": json.dumps(payload)})

    async def send_json(self, kind: str, payload: JSON) -> Ack:
        return await self.post(kind, json.dumps(payload), "application/json")

    async def deliver_event(self, delivery: EventDelivery) -> EventDelivery:
        """First attempt; retries continue in the background with the same event_id."""
        body = json.dumps(delivery.envelope)
        ack = await self.post("event", body, "application/json")
        delivery.attempts.append(ack)
        self.deliveries.append(delivery)
        if self._needs_retry(ack):
            task = asyncio.get_running_loop().create_task(self._retry(delivery, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            delivery._finish()
        return delivery

    @staticmethod
    def _needs_retry(ack: Ack) -> bool:
        return not ack.ok and ack.headers.get("x-slack-no-retry") != "1"

    async def _retry(self, delivery: EventDelivery, body: str) -> None:
        try:
            for num, delay in enumerate(self.config.event_retry_delays, start=1):
                last = delivery.attempts[-1]
                if not self._needs_retry(last):
                    break
                reason = (
                    "http_timeout" if last.timed_out else "connection_failed" if last.error else "http_error"
                )
                await asyncio.sleep(delay)
                delivery.attempts.append(
                    await self.post("event", body, "application/json", retry_num=num, retry_reason=reason)
                )
        finally:
            delivery._finish()
