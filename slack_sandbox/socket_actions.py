"""The test-facing half of Socket Mode: how requests reach the app, what went over the link, faults on it."""

from __future__ import annotations

import asyncio
import copy
import time

from slack_sandbox.base import SandboxBase
from slack_sandbox.inbound import DELIVERY_MODES
from slack_sandbox.socket_mode import SocketConnection, SocketEnvelope


class SocketActions(SandboxBase):
    """``sb.delivery``, the app's Socket Mode connections and envelopes, and disconnects and drops."""

    @property
    def delivery(self) -> str:
        """ "auto" (default), "http" or "socket": how slash commands, interactions and events reach the app.
        "auto" uses Socket Mode while the app has a connection open (or had one and no request_url is set)."""
        return self.inbound.delivery

    @delivery.setter
    def delivery(self, mode: str) -> None:
        if mode not in DELIVERY_MODES:
            raise ValueError(f"delivery must be one of {DELIVERY_MODES}, not {mode!r}")
        self.inbound.delivery = mode

    @property
    def socket_connected(self) -> bool:
        """The app has a Socket Mode connection open that takes envelopes."""
        return self.socket.connected

    def socket_connections(self) -> list[SocketConnection]:
        """Every Socket Mode connection the app opened, oldest first (``open``, ``closed_by``…)."""
        with self.ws.lock:
            return copy.deepcopy(self.socket.connections)

    def socket_envelopes(self, kind: str | None = None) -> list[SocketEnvelope]:
        """Every envelope sent over Socket Mode, oldest first, with each sending and the app's acks."""
        with self.ws.lock:
            return copy.deepcopy([e for e in self.socket.envelopes if kind in (None, e.kind, e.type)])

    async def wait_for_socket(self, connections: int = 1, timeout: float = 10.0) -> SocketConnection:  # noqa: ASYNC109
        """Wait until the app has opened ``connections`` connections in all and one is open; the newest."""
        deadline = time.monotonic() + timeout
        while True:
            with self.ws.lock:
                opened = list(self.socket.connections)
            if len(opened) >= connections and self.socket.connected:
                return copy.deepcopy([c for c in opened if c.open][-1])
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the app opened {len(opened)} Socket Mode connection(s), not {connections}"
                )
            await asyncio.sleep(0.02)

    async def socket_disconnect(self, reason: str = "refresh_requested") -> int:
        """Send a ``disconnect`` message (``warning``, ``refresh_requested``, ``link_disabled``) on every open
        connection; except for a warning, Slack then closes it (here: once the app has connected again and
        owes no ack on it). Returns how many connections were told."""
        return await self._run(self.socket.disconnect(reason))

    async def drop_socket(self, *, after_envelopes: int = 0) -> int:
        """Close the app's connections abruptly (no close frame), now, or right after sending the
        ``after_envelopes``-th envelope from now (which is then in flight and sent again on the next
        connection, ``retry_attempt`` one higher)."""
        return await self._run(self.socket.drop(after_envelopes))
