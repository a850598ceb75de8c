"""Requests from Slack to the app: signed HTTP requests or Socket Mode envelopes, timed against the ack
deadline, events retried like Slack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx

from slack_sandbox.acks import Ack, EventDelivery
from slack_sandbox.config import SandboxConfig
from slack_sandbox.errors import SandboxError
from slack_sandbox.models import JSON
from slack_sandbox.signing import signed_headers
from slack_sandbox.socket_mode import SocketEnvelope, SocketHub
from slack_sandbox.workspace import Workspace

__all__ = ["DELIVERY_MODES", "Ack", "EventDelivery", "Inbound"]

# How requests reach the app: "http" (signed POSTs to request_url), "socket" (Socket Mode envelopes), or
# "auto": over the socket while the app has a Socket Mode connection open, or had one and no request_url is set.
DELIVERY_MODES = ("auto", "http", "socket")

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


class Inbound:
    """Runs in the stand-in's own loop, so a slow app cannot stall Slack's side or its clock on acks."""

    def __init__(
        self,
        ws: Workspace,
        config: SandboxConfig,
        signing_secret: str,
        request_url: Callable[[], str | None],
        socket: SocketHub | None = None,
    ) -> None:
        self.ws = ws
        self.config = config
        self.signing_secret = signing_secret
        self.request_url = request_url
        self.socket = socket or SocketHub(ws, config)
        self.delivery = "auto"
        self._client: httpx.AsyncClient | None = None
        self._open = False
        self.deliveries: list[EventDelivery] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self._open = True
        await self.socket.open()

    def uses_socket(self) -> bool:
        if self.delivery == "socket":
            return True
        if self.delivery == "http":
            return False
        return self.socket.connected or (not self.request_url() and self.socket.ever_connected)

    def can_deliver(self) -> bool:
        """Whether Slack would send the app anything (a request URL is set, or Socket Mode is in use)."""
        return bool(self.request_url()) or self.uses_socket()

    def _http(self) -> httpx.AsyncClient:
        # Made on first use: building one loads CA certificates, which most tests never need.
        if self._client is None:
            self._client = httpx.AsyncClient(trust_env=False)
        return self._client

    async def close(self) -> None:
        self._open = False
        for task in list(self._tasks):
            task.cancel()
        await self.socket.close()
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
        if self.uses_socket():  # a slash command's envelope carries the same fields as a JSON object
            return await self._over_socket(self.socket.envelope(kind, dict(fields)))
        return await self.post(kind, urlencode(fields), "application/x-www-form-urlencoded")

    async def send_interaction(self, kind: str, payload: JSON) -> Ack:
        if self.uses_socket():
            return await self._over_socket(self.socket.envelope(kind, payload))
        # Over HTTP, interactions arrive form-encoded as one ``payload`` field holding JSON.
        return await self.post(
            kind, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    async def _over_socket(self, env: SocketEnvelope, retry_num: int = 0, retry_reason: str = "") -> Ack:
        if not self._open:
            raise SandboxError("the stand-in is not started")
        ack = await self.socket.deliver(env, retry_attempt=retry_num, retry_reason=retry_reason)
        self._judge(ack)
        return ack

    async def send_json(self, kind: str, payload: JSON) -> Ack:
        return await self.post(kind, json.dumps(payload), "application/json")

    async def deliver_event(self, delivery: EventDelivery) -> EventDelivery:
        """First attempt; retries continue in the background with the same event_id (and envelope)."""
        env = self.socket.envelope("event", delivery.envelope) if self.uses_socket() else None
        ack = await self._attempt(delivery, env, 0, "")
        delivery.attempts.append(ack)
        self.deliveries.append(delivery)
        if self._needs_retry(ack):
            task = asyncio.get_running_loop().create_task(self._retry(delivery, env))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            delivery._finish()
        return delivery

    async def _attempt(
        self, delivery: EventDelivery, env: SocketEnvelope | None, num: int, reason: str
    ) -> Ack:
        if env is not None:
            return await self._over_socket(env, num, reason)
        body = json.dumps(delivery.envelope)
        return await self.post("event", body, "application/json", retry_num=num, retry_reason=reason or None)

    @staticmethod
    def _needs_retry(ack: Ack) -> bool:
        return not ack.ok and ack.headers.get("x-slack-no-retry") != "1"

    @staticmethod
    def _reason(last: Ack, socket: bool) -> str:
        if socket:
            return "timeout" if last.timed_out else "connection_failed"
        return "http_timeout" if last.timed_out else "connection_failed" if last.error else "http_error"

    async def _retry(self, delivery: EventDelivery, env: SocketEnvelope | None) -> None:
        try:
            for delay in self.config.event_retry_delays:
                last = delivery.attempts[-1]
                if not self._needs_retry(last):
                    break
                await asyncio.sleep(delay)
                reason = self._reason(last, env is not None)
                delivery.attempts.append(await self._attempt(delivery, env, last.retry_num + 1, reason))
        finally:
            delivery._finish()
