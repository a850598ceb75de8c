"""Fixtures for tests that drive the whole bot: the Slack stand-in and the bot over HTTP, on a flushed Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from slack_sandbox import SlackSandbox
from tests.support.bot import SIGNING_SECRET, BotUnderTest, flush, make_team, manifest_scopes, team_config


@pytest.fixture
async def sb() -> AsyncIterator[SlackSandbox]:
    """The stand-in with exactly the manifest's scopes; every call the bot made must have been valid."""
    sandbox = SlackSandbox(signing_secret=SIGNING_SECRET, bot_scopes=manifest_scopes())
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()
    sandbox.assert_no_violations()
    assert sandbox.internal_errors == []


@pytest.fixture
async def bot(sb: SlackSandbox, redis_url: str) -> AsyncIterator[BotUnderTest]:
    await flush(redis_url)
    team = make_team(sb)
    under_test = BotUnderTest(sb=sb, team=team, config=team_config(team), redis_url=redis_url)
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()
