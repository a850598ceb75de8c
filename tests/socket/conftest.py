"""The whole bot in Socket Mode: Bolt's AsyncSocketModeHandler connected to the stand-in, no HTTP route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import build_handoff
from bot.settings import Settings
from slack_sandbox import SlackSandbox
from tests.support.bot import BotUnderTest, flush, make_team, team_config

# slack_sdk checks the link (and notices a dead one) every ping_interval; the `handoff socket` default is 10 s.
PING_INTERVAL = 0.2


@dataclass
class SocketBot(BotUnderTest):
    """The bot as `handoff socket` runs it, in the test's loop: the people's requests come as envelopes."""

    handler: AsyncSocketModeHandler | None = None

    def settings(self) -> Settings:
        return super().settings().model_copy(update={"slack_app_token": SecretStr(self.sb.app_token)})

    async def start(self, background: bool = False) -> SocketBot:
        handoff = await build_handoff(self.settings(), self.config, clock=self.clock)
        await handoff.start(workers=background)
        self.handoff = handoff
        self.started.append(handoff)
        opened = len(self.sb.socket_connections())
        self.handler = AsyncSocketModeHandler(handoff.bolt, self.sb.app_token, ping_interval=PING_INTERVAL)
        await self.handler.connect_async()  # type: ignore[no-untyped-call]
        await self.sb.wait_for_socket(connections=opened + 1)
        return self

    async def stop(self) -> None:
        if self.handler is not None:
            await self.handler.close_async()  # type: ignore[no-untyped-call]
            self.handler = None
        if self.handoff is not None:
            await self.handoff.stop()
            self.handoff = None


@pytest.fixture
async def bot(sb: SlackSandbox, redis_url: str) -> AsyncIterator[SocketBot]:
    """Everything goes over the socket (no request_url is set, so HTTP would fail loudly)."""
    await flush(redis_url)
    sb.delivery = "socket"
    team = make_team(sb)
    under_test = SocketBot(sb=sb, team=team, config=team_config(team), redis_url=redis_url)
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()
