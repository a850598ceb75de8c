"""Issue 4, resilience: the modal, double submits, Slack 429s, and a bot killed in the middle of opening."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from bot.domain.models import IncidentState, Side
from slack_sandbox import SlackSandbox
from tests.scenarios.test_lifecycle import open_by_command
from tests.support.bot import SIGNING_SECRET, BotUnderTest, eventually
from tests.support.services import free_port

OPEN_FORM = {"Title": "Feature store lagging", "Severity": "SEV2", "Affected table": "features.user_daily"}


class TestOpenByModal:
    async def test_modal_opens_an_incident_with_its_assets(self, bot: BotUnderTest) -> None:
        """`/incident open` without a title opens the form; submitting it opens the incident with its assets."""
        user = bot.team.commander
        await bot.sb.slash_command(user, "/incident", "open")
        await eventually(lambda: bot.sb.open_views(user), what="open form")
        ack = await bot.sb.submit_view(user, values={**OPEN_FORM, "Channel": "Private"})
        assert ack.ok
        incidents = await eventually(bot.incidents, what="incident")
        incident = incidents[0]
        assert incident.title == "Feature store lagging"
        assert incident.origin == "modal"
        assert [str(a) for a in incident.assets] == ["table features.user_daily"]
        channel_id = await eventually(lambda: _opened_channel(bot, incident.id), what="channel opened")
        assert bot.sb.channel(channel_id).is_private

    async def test_missing_title_is_refused_inside_the_form(self, bot: BotUnderTest) -> None:
        """An empty title is shown as an error next to the field and opens nothing."""
        user = bot.team.commander
        await bot.sb.slash_command(user, "/incident", "open")
        await eventually(lambda: bot.sb.open_views(user), what="open form")
        ack = await bot.sb.submit_view(user, values={"Title": "   "})
        assert ack.errors
        assert "title" in ack.errors
        await asyncio.sleep(0.3)
        assert await bot.incidents() == []

    async def test_double_submit_delivered_concurrently_opens_once(self, bot: BotUnderTest) -> None:
        """The same view submission delivered twice at once gives one incident and one channel."""
        user = bot.team.commander
        await bot.sb.slash_command(user, "/incident", "open")
        views = await eventually(lambda: bot.sb.open_views(user), what="open form")
        ack = await bot.sb.submit_view(user, views[-1].id, OPEN_FORM, times=2)
        assert ack.ok
        await eventually(
            lambda: [c for c in bot.sb.channels() if "feature-store-lagging" in c.name], what="channel"
        )
        await asyncio.sleep(0.5)
        assert len([c for c in bot.sb.channels() if "feature-store-lagging" in c.name]) == 1
        assert len(await bot.incidents()) == 1


async def _opened_channel(bot: BotUnderTest, incident_id: str) -> str | None:
    incident = await bot.bot.store.get(incident_id)
    return incident.channel_id if incident.opening.done else None


class TestSlackFailures:
    async def test_rate_limited_create_and_invite_then_success(self, bot: BotUnderTest) -> None:
        """conversations.create and .invite answering 429 first: the bot waits Retry-After and opens."""
        bot.sb.inject("conversations.create", "429", count=2, retry_after=1)
        bot.sb.inject("conversations.invite", "429", count=1, retry_after=1)
        channel_id = await open_by_command(bot, "open Rate limited open sev3")
        assert [c.status for c in bot.sb.calls("conversations.create")][:3] == [429, 429, 200]
        assert [c.status for c in bot.sb.calls("conversations.invite")][:2] == [429, 200]
        assert set(bot.team.data) <= set(bot.sb.channel(channel_id).members)

    async def test_server_errors_and_dropped_connections_are_retried(self, bot: BotUnderTest) -> None:
        """A 500 and a dropped connection on the way are retried with backoff; the opening completes."""
        bot.sb.inject("conversations.setTopic", "500", count=1)
        bot.sb.inject("pins.add", "drop", count=1)
        channel_id = await open_by_command(bot, "open Flaky slack sev3")
        incident = await bot.incident_in(channel_id)
        assert bot.sb.message(channel_id, incident.card_ts or "").pinned

    async def test_permanent_error_is_told_in_plain_words(self, bot: BotUnderTest) -> None:
        """A permanent refusal (restricted_action) reaches the person as an ephemeral message in plain words."""
        bot.sb.inject("conversations.create", "error", error="restricted_action", count=1)
        user = bot.team.commander
        await bot.sb.slash_command(user, "/incident", "open Forbidden channel sev3")
        told = await eventually(
            lambda: [e for e in bot.sb.ephemerals(user) if "workspace setting forbids" in e.text],
            what="message",
        )
        assert told


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def _wait_ready(port: int) -> None:
    async with httpx.AsyncClient() as client:

        async def ready() -> bool:
            try:
                return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(ready, timeout=30, what="bot process ready")


class TestKilledMidOpening:
    async def test_sigkill_between_channel_creation_and_invitation_is_resumed(
        self, sb: SlackSandbox, redis_url: str, tmp_path: Path
    ) -> None:
        """A `handoff serve` killed (SIGKILL) after creating the channel, before inviting, finishes on restart."""
        from tests.support.bot import flush, make_team

        await flush(redis_url)
        team = make_team(sb)
        config = {
            "sides": {
                "mlops": {"users": team.ml, "usergroups": [team.ml_group_id]},
                "dataops": {"users": team.data, "usergroups": [team.data_group_id]},
            },
            "playbooks": {"builtin": False},
        }
        (tmp_path / "handoff.yaml").write_text(yaml.safe_dump(config))
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": sb.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": sb.api_url,
            "REDIS_URL": redis_url,
            "HANDOFF_CONFIG": str(tmp_path / "handoff.yaml"),
            "LOG_FORMAT": "json",
        }
        port = free_port()
        sb.request_url = f"http://127.0.0.1:{port}/slack/events"
        first = _serve(port, env)
        try:
            await _wait_ready(port)
            # Opening reads the user groups afresh right before inviting: hold it so the kill lands in between.
            sb.inject("usergroups.users.list", "slow", delay=60, count=1)
            await sb.slash_command(team.commander, "/incident", "open Killed mid opening sev2")
            found = await eventually(
                lambda: [c for c in sb.channels() if c.name.startswith("inc-")], what="channel created"
            )
            channel = found[0]
            await eventually(lambda: sb.calls("usergroups.users.list"), what="invitation started")
            assert set(team.data).isdisjoint(sb.channel(channel.id).members)
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        sb.clear_faults()
        second = _serve(port, env)
        try:
            await _wait_ready(port)
            import redis.asyncio as aioredis

            from bot.store.redis_store import RedisIncidentStore

            client = aioredis.Redis.from_url(redis_url)
            store = RedisIncidentStore(client)

            async def finished() -> bool:
                found = await store.find_by_channel(channel.id)
                return bool(found and found.opening.done and found.state is IncidentState.INVESTIGATING)

            await eventually(finished, timeout=60, what="opening resumed")
            await client.aclose()
            members = set(sb.channel(channel.id).members)
            assert {*team.ml, *team.ml_group, *team.data, *team.data_group, team.commander} <= members
            assert len([c for c in sb.channels() if c.name.startswith("inc-")]) == 1
            cards = [m for m in sb.messages(channel.id) if m.pinned]
            assert len(cards) == 1
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(15)


class TestUninvitable:
    async def test_a_user_who_cannot_be_invited_is_noted_not_fatal(
        self, sb: SlackSandbox, redis_url: str
    ) -> None:
        """A configured responder Slack does not know is named in the channel; everyone else is invited."""
        from tests.support.bot import flush, make_team, team_config

        await flush(redis_url)
        team = make_team(sb)
        config = team_config(team)
        ghost = "U0GHOST000"
        mlops = config.sides[Side.MLOPS].model_copy(update={"users": [*team.ml, ghost]})
        config = config.model_copy(update={"sides": {**config.sides, Side.MLOPS: mlops}})
        under_test = BotUnderTest(sb=sb, team=team, config=config, redis_url=redis_url)
        await under_test.start()
        try:
            channel_id = await open_by_command(under_test, "open Ghost responder sev3")
            note = await eventually(
                lambda: [m for m in sb.messages(channel_id) if "Could not invite" in m.text], what="note"
            )
            assert ghost in note[0].text
            assert set(team.data) <= set(sb.channel(channel_id).members)
        finally:
            await under_test.stop()
