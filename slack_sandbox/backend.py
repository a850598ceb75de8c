"""The server's view of the sandbox: Web API calls, uploads, response URLs, side-effect events, state."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute

from slack_sandbox import payloads
from slack_sandbox.inbound import EventDelivery
from slack_sandbox.interactions import use_response_url
from slack_sandbox.models import JSON
from slack_sandbox.protocols import SandboxParts
from slack_sandbox.web.state import workspace_state
from slack_sandbox.webapi import ApiRequest, ApiResult


class SandboxBackend:
    """Implements :class:`slack_sandbox.server.Backend` on top of a sandbox's parts; ``routes`` (the live
    page's, given by the sandbox) are served besides the Web API."""

    def __init__(self, sb: SandboxParts, routes: Sequence[BaseRoute] = ()) -> None:
        self.sb = sb
        self._routes = list(routes)
        self._tasks: set[asyncio.Task[Any]] = set()

    def handle_api(self, req: ApiRequest) -> ApiResult:
        return self.sb.webapi.handle(req)

    def handle_upload(self, file_id: str, body: bytes) -> tuple[int, str]:
        with self.sb.ws.lock:
            f = self.sb.ws.files.get(file_id)
            if f is None:
                return 404, "file_not_found"
            f.content = body
            return 200, f"OK - {len(body)}"

    def handle_response_url(self, hook_id: str, payload: Any) -> tuple[int, str]:
        with self.sb.ws.lock:
            ru = self.sb.ws.response_urls.get(hook_id)
        if ru is None:
            return 404, "no_active_hooks"
        return use_response_url(self.sb.ws, self.sb.config, ru, payload)

    def emit_events(self, events: list[JSON]) -> None:
        """Events caused by API calls; sent after the answer, from the stand-in's loop."""
        loop = asyncio.get_running_loop()
        for event in events:
            if event.get("type") in self.sb.event_subscriptions and self.sb.inbound.can_deliver():
                with self.sb.ws.lock:
                    envelope = payloads.event_envelope(self.sb.ws, event)
                task = loop.create_task(
                    self.sb.inbound.deliver_event(EventDelivery(str(envelope["event_id"]), envelope))
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def internal_error(self, message: str) -> None:
        self.sb.internal_errors.append(message)
        self.sb.ws.record_violation("sandbox_bug", message)

    def snapshot(self) -> JSON:
        """The workspace as JSON (served at /_sandbox/state for the live page, humans and the CLI)."""
        return workspace_state(self.sb.ws, self.sb.config)

    def extra_routes(self) -> list[BaseRoute]:
        """The live page and its act endpoint."""
        return list(self._routes)
