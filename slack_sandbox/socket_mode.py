"""Socket Mode: the WebSocket link apps.connections.open points at; envelopes out, acks back, redelivery.

Runs in the stand-in's own loop (like :mod:`slack_sandbox.inbound`). One ``SocketHub`` per sandbox holds the
app's connections; an envelope goes to the newest connection that was not asked to refresh, and one that was
in flight on a connection that went away (dropped, closed, refreshed) is sent again on the next connection with
``retry_attempt`` one higher.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from slack_sandbox.acks import Ack
from slack_sandbox.config import SandboxConfig
from slack_sandbox.methods.apps import LINK_PATH
from slack_sandbox.models import JSON
from slack_sandbox.server import TRANSPORT_KEY
from slack_sandbox.workspace import Workspace

# What a request of each kind (see Inbound) is called in an envelope; every other kind is "interactive".
ENVELOPE_TYPES = {"slash_command": "slash_commands", "event": "events_api"}
# The kinds whose ack may carry the answer (the command's reply, a view's response_action).
ANSWERABLE = frozenset({"slash_command", "view_submission", "block_suggestion"})
DISCONNECT_REASONS = frozenset({"warning", "refresh_requested", "link_disabled"})
MAX_REDELIVERIES = 3  # an envelope whose connection keeps going away is given up after this many
REFRESH_GRACE = 10.0  # s a connection asked to refresh stays open at most, for the acks still owed on it
HOST = "applink-sandbox"
# What a connection that went away raises (uvicorn's ClientDisconnected is an OSError; Starlette raises
# RuntimeError when receiving after the close).
_GONE = (OSError, RuntimeError, WebSocketDisconnect)
log = logging.getLogger("slack_sandbox")


@dataclass
class SocketSend:
    """One sending of an envelope: on which connection, as which attempt."""

    connection: int
    retry_attempt: int
    retry_reason: str


@dataclass
class SocketEnvelope:
    """One envelope and every time it was sent; ``acks`` holds every ack the app sent for it."""

    envelope_id: str
    type: str  # slash_commands | interactive | events_api
    kind: str  # slash_command, block_actions, view_submission, ..., event
    payload: JSON
    accepts_response_payload: bool
    sends: list[SocketSend] = field(default_factory=list)
    acks: list[JSON] = field(default_factory=list)
    acked_on: int | None = None  # the connection the counted ack came on

    @property
    def acked(self) -> bool:
        return self.acked_on is not None

    def message(self, retry_attempt: int, retry_reason: str) -> JSON:
        out: JSON = {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api" or retry_attempt:
            out["retry_attempt"] = retry_attempt
            out["retry_reason"] = retry_reason
        return out


@dataclass
class SocketConnection:
    """One WebSocket connection of the app, as the stand-in saw it."""

    id: int
    opened_at: float
    closed_at: float | None = None
    closed_by: str | None = None  # "app", "sandbox" (after a disconnect message) or "drop" (abrupt)
    disconnect_reason: str | None = None  # the disconnect message sent on it, if any

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass
class _Link:
    """A live connection: the WebSocket, its transport (to drop it abruptly), the envelopes in flight on it."""

    record: SocketConnection
    websocket: WebSocket
    transport: Any
    closing: bool = False  # a disconnect message was sent: no new envelopes go here
    inflight: set[str] = field(default_factory=set)


class SocketHub:
    def __init__(self, ws: Workspace, config: SandboxConfig) -> None:
        self.ws = ws
        self.config = config
        self.connections: list[SocketConnection] = []
        self.envelopes: list[SocketEnvelope] = []
        self._by_id: dict[str, SocketEnvelope] = {}
        self._links: list[_Link] = []
        self._waiting: dict[str, asyncio.Future[JSON | None]] = {}
        self._changed: asyncio.Event | None = None
        self._drop_after: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        self._changed = asyncio.Event()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for link in list(self._links):
            self._abort(link, "sandbox")

    def routes(self) -> list[BaseRoute]:
        return [WebSocketRoute(LINK_PATH, self.endpoint)]

    # ---- state -------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """A connection is open that takes envelopes."""
        return any(not link.closing for link in self._links)

    @property
    def ever_connected(self) -> bool:
        return bool(self.connections)

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    def envelope(self, kind: str, payload: JSON) -> SocketEnvelope:
        env = SocketEnvelope(
            envelope_id=str(uuid.uuid4()),
            type=ENVELOPE_TYPES.get(kind, "interactive"),
            kind=kind,
            payload=payload,
            accepts_response_payload=kind in ANSWERABLE,
        )
        with self.ws.lock:
            self.envelopes.append(env)
            self._by_id[env.envelope_id] = env
        return env

    # ---- the link ----------------------------------------------------------------------------------
    async def endpoint(self, websocket: WebSocket) -> None:
        ticket = websocket.query_params.get("ticket", "")
        with self.ws.lock:
            valid = self.ws.socket_tickets.pop(ticket, None) is not None
            if not valid:
                self.ws.record_violation(
                    "invalid_socket_ticket",
                    "connected with a ticket apps.connections.open did not give out "
                    "or that was used already (each URL is good for one connection)",
                )
        if not valid:
            await websocket.close(code=1008)  # before the handshake: HTTP 403
            return
        await websocket.accept()
        with self.ws.lock:
            record = SocketConnection(id=len(self.connections) + 1, opened_at=time.monotonic())
            self.connections.append(record)
        link = _Link(record, websocket, websocket.scope.get(TRANSPORT_KEY))
        try:
            await websocket.send_text(json.dumps(self._hello()))
            self._links.append(link)
            self._notify()
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                self._on_message_safely(link, text)
        except _GONE:  # the connection failed under us; it is gone either way
            pass
        finally:
            self._end(link, "app")

    def _hello(self) -> JSON:
        return {
            "type": "hello",
            "num_connections": sum(1 for link in self._links if not link.closing) + 1,
            "debug_info": {"host": HOST, "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.ws.app_id},
        }

    def _on_message_safely(self, link: _Link, text: str) -> None:
        try:
            self._on_message(link, text)
        except Exception as exc:  # a stand-in bug must fail the test, not pass as a lost ack
            log.exception("stand-in failed on a Socket Mode message")
            self.ws.record_violation("sandbox_bug", f"Socket Mode message: {type(exc).__name__}: {exc}")

    def _on_message(self, link: _Link, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("envelope_id"), str):
            self.ws.record_violation("invalid_socket_ack", f"not an ack: {text[:200]!r}")
            return
        env = self._by_id.get(data["envelope_id"])
        if env is None:
            self.ws.record_violation("invalid_socket_ack", f"ack for an unknown envelope: {text[:200]!r}")
            return
        if "payload" in data and not isinstance(data["payload"], dict):
            self.ws.record_violation(
                "invalid_socket_ack", f"the ack's payload is not an object: {text[:200]!r}"
            )
        with self.ws.lock:
            env.acks.append(data)
        waiter = self._waiting.get(env.envelope_id)
        if waiter is not None and not waiter.done():
            with self.ws.lock:
                env.acked_on = link.record.id
            waiter.set_result(data)
        # Otherwise a late ack (the attempt had timed out) or a second one: Slack ignores it.

    def _end(self, link: _Link, by: str) -> None:
        """The connection is gone: whatever was in flight on it will be sent again on the next one."""
        if link in self._links:
            self._links.remove(link)
        with self.ws.lock:
            if link.record.closed_at is None:
                link.record.closed_at = time.monotonic()
                link.record.closed_by = by
        for envelope_id in list(link.inflight):
            waiter = self._waiting.get(envelope_id)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        link.inflight.clear()
        self._notify()

    def _abort(self, link: _Link, by: str) -> None:
        """Close the TCP connection at once, with no close frame (a network failure, a crashed proxy)."""
        self._end(link, by)
        if link.transport is not None and hasattr(link.transport, "abort"):
            link.transport.abort()
        else:  # not served by uvicorn: at least close it
            self._spawn(self._close(link))

    async def _close(self, link: _Link) -> None:
        with contextlib.suppress(*_GONE):
            await link.websocket.close(code=1000)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- sending -----------------------------------------------------------------------------------
    async def _usable_link(self) -> _Link | None:
        """The newest connection that takes envelopes, waiting up to ``socket_connect_timeout`` for one."""
        deadline = time.monotonic() + self.config.socket_connect_timeout
        while True:
            usable = [link for link in self._links if not link.closing]
            if usable:
                return usable[-1]
            remaining = deadline - time.monotonic()
            changed = self._changed
            if remaining <= 0 or changed is None:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def deliver(self, env: SocketEnvelope, *, retry_attempt: int = 0, retry_reason: str = "") -> Ack:
        """Send ``env`` and wait for its ack (``ack_timeout`` from each sending); a lost connection means
        the next connection gets it again, ``retry_attempt`` one higher and ``retry_reason`` "connection_lost"."""
        attempt, reason = retry_attempt, retry_reason
        for _ in range(MAX_REDELIVERIES + 1):
            link = await self._usable_link()
            if link is None:
                return Ack(env.kind, None, "", {}, 0.0, error="no Socket Mode connection", retry_num=attempt)
            outcome, data, elapsed = await self._send(env, link, attempt, reason)
            if outcome == "timeout":
                return Ack(env.kind, None, "", {}, elapsed, timed_out=True, retry_num=attempt)
            if data is not None:
                return self._ack(env, data, elapsed, attempt)
            attempt, reason = attempt + 1, "connection_lost"
        return Ack(env.kind, None, "", {}, 0.0, error="the connection kept going away", retry_num=attempt)

    async def _send(
        self, env: SocketEnvelope, link: _Link, attempt: int, reason: str
    ) -> tuple[str, JSON | None, float]:
        """("ack", ack, elapsed), ("lost", None, elapsed) when the connection went away first, or "timeout"."""
        waiter: asyncio.Future[JSON | None] = asyncio.get_running_loop().create_future()
        self._waiting[env.envelope_id] = waiter
        link.inflight.add(env.envelope_id)
        with self.ws.lock:
            env.sends.append(SocketSend(link.record.id, attempt, reason))
        start = time.monotonic()
        try:
            try:
                await link.websocket.send_text(json.dumps(env.message(attempt, reason)))
            except _GONE:
                self._end(link, "app")
            self._maybe_drop(link)
            try:
                data = await asyncio.wait_for(asyncio.shield(waiter), self.config.ack_timeout)
            except TimeoutError:
                return "timeout", None, time.monotonic() - start
            return ("ack" if data is not None else "lost"), data, time.monotonic() - start
        finally:
            link.inflight.discard(env.envelope_id)
            if self._waiting.get(env.envelope_id) is waiter:
                del self._waiting[env.envelope_id]

    def _ack(self, env: SocketEnvelope, data: JSON, elapsed: float, attempt: int) -> Ack:
        payload = data.get("payload")
        body = json.dumps(payload) if isinstance(payload, dict) and env.accepts_response_payload else ""
        headers = {"content-type": "application/json"} if body else {}
        return Ack(env.kind, 200, body, headers, elapsed, retry_num=attempt)

    # ---- what tests do to the link -----------------------------------------------------------------
    def _maybe_drop(self, link: _Link) -> None:
        if self._drop_after is None:
            return
        self._drop_after -= 1
        if self._drop_after <= 0:
            self._drop_after = None
            self._abort(link, "drop")

    async def drop(self, after_envelopes: int = 0) -> int:
        """Close every connection abruptly now, or the one carrying the ``after_envelopes``-th envelope
        from now, right after sending it (so it is in flight). Returns how many were dropped now."""
        if after_envelopes > 0:
            self._drop_after = after_envelopes
            return 0
        links = list(self._links)
        for link in links:
            self._abort(link, "drop")
        return len(links)

    async def disconnect(self, reason: str = "refresh_requested") -> int:
        """Send ``{"type": "disconnect", "reason": …}`` on every open connection. Except for "warning", the
        connection then takes no new envelopes and is closed once the acks owed on it are in and the app
        has connected again (at most ``REFRESH_GRACE`` s)."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"reason must be one of {sorted(DISCONNECT_REASONS)}")
        links = [link for link in self._links if not link.closing]
        message = json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}})
        for link in links:
            with self.ws.lock:
                link.record.disconnect_reason = reason
            if reason != "warning":
                link.closing = True
                self._spawn(self._close_when_replaced(link))
            with contextlib.suppress(*_GONE):
                await link.websocket.send_text(message)
        self._notify()
        return len(links)

    async def _close_when_replaced(self, link: _Link) -> None:
        deadline = time.monotonic() + REFRESH_GRACE
        while link in self._links and time.monotonic() < deadline:
            newer = any(other.record.id > link.record.id for other in self._links)
            if newer and not link.inflight:
                break
            await asyncio.sleep(0.05)
        if link in self._links:
            self._end(link, "sandbox")
            await self._close(link)
