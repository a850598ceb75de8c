"""The snooze buttons end to end: a person clicks on a reminder in the Slack stand-in, the Bolt listener
snoozes the incident, the timeline and the channel say so; a bystander is told no."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import HandoffConfig
from bot.domain.models import Severity
from bot.slack.ids import ActionId
from handlers.actions import snooze
from slack_sandbox.server import AsgiServer
from tests.reminders.support import T0, ManualClock, Replica, SlackStandIn, services_for


@pytest.fixture
async def listening(
    bot: Replica, config: HandoffConfig, clock: ManualClock, slack: SlackStandIn
) -> AsyncIterator[None]:
    """A Bolt app with only the snooze listener, served where the stand-in sends interactions."""
    app = AsyncApp(
        signing_secret=slack.sb.signing_secret,
        client=bot.service.gateway.client,
        process_before_response=True,
    )
    snooze.register(app, services_for(bot, config, clock))
    handler = AsyncSlackRequestHandler(app)

    async def endpoint(request: Request) -> Response:
        return await handler.handle(request)

    server = await AsgiServer(Starlette(routes=[Route("/slack/events", endpoint, methods=["POST"])])).start()
    slack.sb.request_url = f"{server.base_url}/slack/events"
    try:
        yield
    finally:
        await server.stop()


async def settle(check: Callable[[], Awaitable[bool]]) -> None:
    """Lazy listeners run after the ack: wait (at most 5 s) until `check()` holds."""
    async with asyncio.timeout(5):
        while not await check():  # noqa: ASYNC110 - a lazy listener offers nothing to await on
            await asyncio.sleep(0.02)


@pytest.mark.usefixtures("listening")
class TestSnoozeButtons:
    async def test_a_responder_clicks_snooze_4h(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """The "Snooze 4 h" button: snoozed until +4 h, on the timeline, and said in the channel."""
        created, _ = await bot.store.create(slack.incident("INC-1", Severity.SEV1))
        await bot.service.sweep(clock.set(T0 + 15 * timedelta(minutes=1)))
        assert created.channel_id is not None
        responder = slack.people.data[0]
        ack = await slack.sb.click(responder, "Snooze 4 h", channel=created.channel_id)
        assert ack is not None
        assert ack.ok

        async def snoozed() -> bool:
            # The record is written before the channel is told: wait for both.
            recorded = (await bot.store.get("INC-1")).reminders.snoozed_until is not None
            return recorded and any("snoozed until" in p.text for p in slack.posts(created.channel_id or ""))

        await settle(snoozed)
        stored = await bot.store.get("INC-1")
        assert stored.reminders.snoozed_until == T0 + timedelta(minutes=15, hours=4)
        [entry] = [e for e in await bot.store.timeline("INC-1") if e.kind == "snooze"]
        assert entry.actor == responder
        said = [p.text for p in slack.posts(created.channel_id) if "snoozed until" in p.text]
        assert len(said) == 1
        assert said[0].startswith("Reminders for INC-1 snoozed until")

    async def test_a_bystander_is_told_no(
        self, bot: Replica, clock: ManualClock, slack: SlackStandIn
    ) -> None:
        """Someone on neither side gets an ephemeral refusal; the incident is not snoozed."""
        created, _ = await bot.store.create(slack.incident("INC-1", Severity.SEV1))
        await bot.service.sweep(clock.set(T0 + 15 * timedelta(minutes=1)))
        assert created.channel_id is not None
        outsider = slack.people.outsider
        await slack.sb.click(outsider, "Until tomorrow 09:00", channel=created.channel_id)

        async def told() -> bool:
            return bool(slack.sb.ephemerals(outsider))

        await settle(told)
        assert "Only MLOps or DataOps responders" in slack.sb.ephemerals(outsider)[0].text
        assert (await bot.store.get("INC-1")).reminders.snoozed_until is None

    def test_the_pattern_matches_only_indexed_snooze_buttons(self) -> None:
        """`handoff.reminder.snooze.N` matches; the bare id and other actions do not."""
        assert snooze.SNOOZE_ACTION.match(f"{ActionId.SNOOZE}.2")
        assert not snooze.SNOOZE_ACTION.match(str(ActionId.SNOOZE))
        assert not snooze.SNOOZE_ACTION.match(f"{ActionId.RUN_PLAYBOOK}.0")
