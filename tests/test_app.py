"""The ASGI app: Slack signatures verified (replays refused), health, readiness and metrics endpoints."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
import urllib.parse

import httpx

from slack_sandbox import SlackSandbox
from tests.support.bot import SIGNING_SECRET, BotUnderTest, make_team, team_config
from tests.support.services import RedisServer


def form(bot: BotUnderTest, text: str = "help") -> str:
    return urllib.parse.urlencode(
        {
            "team_id": bot.sb.team_id,
            "user_id": bot.team.commander,
            "channel_id": "C1",
            "command": "/incident",
            "text": text,
            "response_url": "http://127.0.0.1:9/x",
            "trigger_id": "1.2.3",
        }
    )


def signature(body: str, ts: int, secret: str = SIGNING_SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()


async def post(bot: BotUnderTest, body: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            bot.url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded", **headers}
        )


class TestSlackSignature:
    async def test_correctly_signed_request_is_answered(self, bot: BotUnderTest) -> None:
        """The control: a request signed with the signing secret and a fresh timestamp gets 200."""
        body, ts = form(bot), int(time.time())
        answer = await post(
            bot, body, {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature(body, ts)}
        )
        assert answer.status_code == 200
        assert "/incident open" in answer.text

    async def test_unsigned_request_is_401(self, bot: BotUnderTest) -> None:
        """No signature headers at all: 401, and nothing is done."""
        assert (await post(bot, form(bot), {})).status_code == 401

    async def test_wrong_signature_is_401(self, bot: BotUnderTest) -> None:
        """A signature made with another secret: 401."""
        body, ts = form(bot), int(time.time())
        headers = {
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature(body, ts, "other-secret"),
        }
        assert (await post(bot, body, headers)).status_code == 401

    async def test_tampered_body_is_401(self, bot: BotUnderTest) -> None:
        """A valid signature over a different body: 401."""
        ts = int(time.time())
        headers = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature(form(bot), ts)}
        assert (await post(bot, form(bot, "list"), headers)).status_code == 401

    async def test_replayed_old_timestamp_is_401(self, bot: BotUnderTest) -> None:
        """A correctly signed request older than 5 minutes is a replay: 401."""
        body, ts = form(bot), int(time.time()) - 6 * 60
        answer = await post(
            bot, body, {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature(body, ts)}
        )
        assert answer.status_code == 401


class TestOperationalEndpoints:
    async def test_health_ready_and_metrics(self, bot: BotUnderTest) -> None:
        """/healthz is alive, /readyz checks Redis and Slack, /metrics serves Prometheus text."""
        base = bot.url.removesuffix("/slack/events")
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/healthz")).text == "ok"
            ready = await client.get(f"{base}/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"redis": True, "slack": True}
            metrics = await client.get(f"{base}/metrics")
        assert metrics.status_code == 200
        assert "handoff_slack_request_seconds" in metrics.text

    async def test_readyz_fails_when_redis_is_gone(self, sb: SlackSandbox) -> None:
        """With its Redis server gone, /readyz answers 503 naming the failing check; /healthz stays 200."""
        server = RedisServer().start()
        team = make_team(sb)
        under_test = BotUnderTest(sb=sb, team=team, config=team_config(team), redis_url=server.url)
        await under_test.start()
        try:
            server.kill()
            base = under_test.url.removesuffix("/slack/events")
            async with httpx.AsyncClient() as client:
                ready = await client.get(f"{base}/readyz")
                alive = await client.get(f"{base}/healthz")
            assert ready.status_code == 503
            assert ready.json()["redis"] is False
            assert alive.status_code == 200
        finally:
            with contextlib.suppress(Exception):
                await under_test.stop()
            server.stop()
