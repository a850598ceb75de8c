"""Fixtures for the Slack stand-in's own tests: a running sandbox and a way to serve an app under test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slack_sandbox import SlackSandbox
from slack_sandbox.server import AsgiServer
from slack_sandbox.testing import SIGNING_SECRET, asgi_servers, slack_sandbox, start_asgi

# The shared fixtures, as other test packages get them (they may also use pytest_plugins at the root).
__all__ = ["asgi_servers", "slack_sandbox"]
SECRET = SIGNING_SECRET


@pytest.fixture
def sb(slack_sandbox: SlackSandbox) -> SlackSandbox:
    return slack_sandbox


@pytest.fixture
def web(sb: SlackSandbox) -> WebClient:
    """The unchanged sync WebClient pointed at the stand-in (no automatic retries, to see raw answers)."""
    return WebClient(token=sb.bot_token, base_url=sb.api_url, retry_handlers=[])


Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class AppUnderTest:
    url: str


@pytest.fixture
async def serve(asgi_servers: list[AsgiServer]) -> Callable[[Handler], Awaitable[AppUnderTest]]:
    """``await serve(handler)`` serves a raw Starlette handler at /slack/events; stopped after the test."""

    async def start(handler: Handler) -> AppUnderTest:
        app = Starlette(routes=[Route("/slack/events", handler, methods=["POST"])])
        server = await start_asgi(app, asgi_servers)
        return AppUnderTest(url=f"{server.base_url}/slack/events")

    return start


def block_button(text: str, action_id: str = "btn", value: str = "v", **extra: Any) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": text},
                "action_id": action_id,
                "value": value,
                **extra,
            }
        ],
    }


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
