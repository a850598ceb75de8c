"""Fixtures of the reminder tests: a flushed Redis, a clock the test moves, the Slack stand-in, replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from bot.config import HandoffConfig
from tests.reminders.support import ManualClock, Replica, SlackStandIn, make_config, replica, start_slack

MakeReplica = Callable[[], Awaitable[Replica]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    """A running Slack stand-in; every message the bot sent must have been valid for Slack."""
    stand_in = await start_slack()
    try:
        yield stand_in
    finally:
        await stand_in.sb.stop()
    stand_in.sb.assert_no_violations()


@pytest.fixture
def config(slack: SlackStandIn) -> HandoffConfig:
    return make_config(slack.people, slack.triage)


@pytest.fixture
async def make_replica(
    redis: aioredis.Redis,
    redis_url: str,
    config: HandoffConfig,
    slack: SlackStandIn,
    clock: ManualClock,
) -> AsyncIterator[MakeReplica]:
    """Start bot processes' reminder stacks on the flushed test Redis: own connections, own Slack clients."""
    started: list[Replica] = []

    async def make() -> Replica:
        r = replica(redis_url, config, slack.gateway(), clock)
        started.append(r)
        return r

    yield make
    for r in started:
        await r.close()


@pytest.fixture
async def bot(make_replica: MakeReplica) -> Replica:
    return await make_replica()
