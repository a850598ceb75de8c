"""Pytest fixtures for driving the bot through the stand-in: pytest_plugins = ["slack_sandbox.testing"]."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.types import ASGIApp

from slack_sandbox.sandbox import SlackSandbox
from slack_sandbox.server import AsgiServer

SIGNING_SECRET = "sandbox-test-signing-secret"


@pytest.fixture
def slack_sandbox() -> Iterator[SlackSandbox]:
    """A started stand-in (fresh workspace per test); fails the test if the stand-in itself misbehaved."""
    sandbox = SlackSandbox(signing_secret=SIGNING_SECRET)
    sandbox.start_in_thread()
    try:
        yield sandbox
    finally:
        sandbox.stop_in_thread()
    assert sandbox.internal_errors == [], sandbox.internal_errors


@pytest.fixture
async def asgi_servers() -> AsyncIterator[list[AsgiServer]]:
    """Servers started with ``await start_asgi(app, asgi_servers)`` are stopped after the test."""
    servers: list[AsgiServer] = []
    yield servers
    for server in servers:
        await server.stop()


async def start_asgi(app: ASGIApp, servers: list[AsgiServer] | None = None) -> AsgiServer:
    """Serve ``app`` (e.g. the bot's Starlette app) on 127.0.0.1 in the current loop."""
    server = await AsgiServer(app).start()
    if servers is not None:
        servers.append(server)
    return server
