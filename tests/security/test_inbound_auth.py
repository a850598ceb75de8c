"""Issue 14: what an unauthenticated request can do. Each finding, against the whole bot served over HTTP.

Nothing before authentication: a request that fails verification gets a 4xx and has no other effect (no Slack
call, no alert kept, no ERROR line, no body in the log); bodies are capped and read with a deadline.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from urllib.parse import urlencode

import httpx
import pytest
import structlog
import uvicorn
from prometheus_client import CollectorRegistry
from slack_bolt.async_app import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.routing import Route
from structlog.testing import capture_logs

import bot.logging as bot_logging
from bot.asgi import build_asgi
from bot.cli import SERVER_LIMITS
from bot.http_guard import MAX_SLACK_BODY_BYTES, InboundLimits, SlackInbound, slack_signature
from bot.services.intake import AlertIntake
from handlers.alerts.webhook import alert_routes
from slack_sandbox import SlackSandbox
from slack_sandbox.server import AsgiServer
from tests.security.support import (
    AM_TOKEN,
    GENERIC_SECRET,
    guarded_bot,
    hmac_headers,
    raw_request,
    seen,
    slack_headers,
    stdlib_records,
)
from tests.support.bot import SIGNING_SECRET, BotUnderTest
from tests.support.reference import fixture

AM_BODY = (fixture("alerts") / "alertmanager_v4_firing.json").read_bytes()
RESPONSE_URL = "https://hooks.slack.com/commands/T0000/1111/response-url-secret-path"
TRIGGER_ID = "1111.2222.trigger-id-secret"


@pytest.fixture
async def bot(sb: SlackSandbox, redis_url: str) -> AsyncIterator[BotUnderTest]:
    async with guarded_bot(sb, redis_url) as under_test:
        yield under_test


@pytest.fixture
async def http(bot: BotUnderTest) -> AsyncIterator[httpx.AsyncClient]:
    assert bot.server is not None
    async with httpx.AsyncClient(base_url=bot.server.base_url, timeout=60) as client:
        yield client


def command_body(bot: BotUnderTest, text: str = "open Disk full") -> bytes:
    """A slash command naming a real person and channel: what the error handler would have messaged."""
    return urlencode(
        {
            "command": "/incident",
            "text": text,
            "user_id": bot.team.ml[0],
            "channel_id": bot.team.triage,
            "team_id": "T0000",
            "response_url": RESPONSE_URL,
            "trigger_id": TRIGGER_ID,
        }
    ).encode()


def bolt_headers(headers: dict[str, str]) -> dict[str, str | Sequence[str]]:
    return dict(headers)


class TestSlackBadTimestamp:
    @pytest.mark.parametrize(
        "timestamp",
        ["abc", "", "-5", "1e9", "17000000000.5", "+1700000000", "\u00b2", "9" * 5000, "0x10"],
        ids=["abc", "empty", "negative", "exponent", "fraction", "plus", "superscript", "5000digits", "hex"],
    )
    async def test_malformed_timestamp_is_401_and_tells_nobody(
        self, bot: BotUnderTest, http: httpx.AsyncClient, timestamp: str
    ) -> None:
        """Finding: `X-Slack-Request-Timestamp: abc` was a 500, and the error handler then messaged the user and
        channel the unsigned body named. Now: 401, and not a single Slack call."""
        before = await seen(bot)
        headers = {
            b"X-Slack-Request-Timestamp": timestamp.encode("latin-1"),
            b"X-Slack-Signature": b"v0=" + b"0" * 64,
            b"Content-Type": b"application/x-www-form-urlencoded",
        }
        response = await http.post("/slack/events", content=command_body(bot), headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "unauthorized"}  # which check failed is for the log only
        assert await seen(bot) == before
        assert bot.messages(bot.team.triage) == []

    @pytest.mark.parametrize("missing", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
    async def test_missing_header_is_401(
        self, bot: BotUnderTest, http: httpx.AsyncClient, missing: str
    ) -> None:
        body = command_body(bot)
        headers = slack_headers(body)
        del headers[missing]
        before = await seen(bot)
        assert (await http.post("/slack/events", content=body, headers=headers)).status_code == 401
        assert await seen(bot) == before

    async def test_stale_and_repeated_headers_are_401(
        self, bot: BotUnderTest, http: httpx.AsyncClient
    ) -> None:
        """Correctly signed but 301 s old (replay window 300 s), or with the timestamp sent twice: 401."""
        body = command_body(bot, "help")
        before = await seen(bot)
        stale = slack_headers(body, timestamp=str(int(time.time()) - 301))
        assert (await http.post("/slack/events", content=body, headers=stale)).status_code == 401
        fresh = slack_headers(body)
        twice = [*fresh.items(), ("X-Slack-Request-Timestamp", fresh["X-Slack-Request-Timestamp"])]
        assert (await http.post("/slack/events", content=body, headers=twice)).status_code == 401
        assert await seen(bot) == before

    async def test_signed_request_is_answered(self, bot: BotUnderTest) -> None:
        """Control: a request the stand-in signs, slightly old but inside the window, reaches the listener."""
        ack = await bot.sb.slash_command(bot.team.ml[0], "/incident", "help")
        assert ack.ok, ack
        body = command_body(bot, "help")
        async with httpx.AsyncClient(timeout=60) as client:
            headers = slack_headers(body, timestamp=str(int(time.time()) - 240))
            assert (await client.post(bot.url, content=body, headers=headers)).status_code == 200


class TestSlackUnparseable:
    async def test_unsigned_garbage_is_401_before_parsing(
        self, bot: BotUnderTest, http: httpx.AsyncClient
    ) -> None:
        """Finding: `payload=%7B` was a 500 before the signature was checked, with a trace at ERROR."""
        before = await seen(bot)
        with stdlib_records() as records, capture_logs() as events:
            for body in (b"payload=%7B", b"{", b"payload=%5B1%5D", b"\xff\xfe", b"payload=" + b"%5B" * 5000):
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                assert (await http.post("/slack/events", content=body, headers=headers)).status_code == 401
        assert records.at_error() == [], records.text()
        assert [e for e in events if e.get("log_level") in ("error", "critical")] == []
        assert await seen(bot) == before

    async def test_signed_garbage_is_400(self, bot: BotUnderTest, http: httpx.AsyncClient) -> None:
        """A correctly signed body that Bolt cannot read (not JSON, not UTF-8, not an object): 400, no trace."""
        before = await seen(bot)
        with stdlib_records() as records:
            for body in (b"payload=%7B", b"{", b"payload=%5B1%5D", b"\xff\xfe", b"payload=" + b"%5B" * 5000):
                response = await http.post("/slack/events", content=body, headers=slack_headers(body))
                assert response.status_code == 400, body[:20]
        assert records.at_error() == [], records.text()
        assert await seen(bot) == before

    async def test_empty_signing_secret_refuses_everything(self, bot: BotUnderTest) -> None:
        """A signing secret left empty is no key anyone may sign with: every request is 401."""
        app = Starlette(
            routes=[Route("/slack/events", SlackInbound(bot.bot.bolt, " ").handle, methods=["POST"])]
        )
        body = command_body(bot, "help")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://h") as client:
            response = await client.post(
                "/slack/events", content=body, headers=slack_headers(body, secret=" ")
            )
        assert response.status_code == 401

    def test_signature_is_slacks(self) -> None:
        """The raw-bytes signature is the one slack_sdk computes for a UTF-8 body."""
        body = "payload=%7B%22a%22%3A%22%C3%A9%22%7D"
        expected = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp="1700000000", body=body)
        assert slack_signature(SIGNING_SECRET, "1700000000", body.encode()) == expected


class Chunks:
    """A request body streamed in 64 KiB chunks, counting how many the server pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            self.pulled += 1
            sent += self.chunk
            yield b"x" * self.chunk


class TestSlackBodyLimits:
    async def test_declared_10_mb_is_413_at_once(self, bot: BotUnderTest) -> None:
        """Finding: a 10 MB unsigned body was read whole. A declared length over 1 MiB: 413, connection closed,
        without waiting for a byte of the body."""
        assert bot.server is not None
        head = (
            "POST /slack/events HTTP/1.1\nHost: handoff\nContent-Type: application/x-www-form-urlencoded\n"
            "Content-Length: 10000000\n"
        )
        answer = await raw_request(bot.server.host, bot.server.port, head)
        assert answer.status == 413
        assert "connection: close" in answer.head.lower()

    async def test_streamed_body_is_cut_at_the_cap(self, bot: BotUnderTest) -> None:
        """No Content-Length (chunked), 10 MB: reading stops just past 1 MiB, the rest is never pulled."""
        assert bot.bot.asgi is not None
        body = Chunks(10 * 1024 * 1024)
        transport = httpx.ASGITransport(app=bot.bot.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://handoff") as client:
            response = await client.post("/slack/events", content=body)
        assert response.status_code == 413
        assert body.pulled == MAX_SLACK_BODY_BYTES // body.chunk + 1

    async def test_exactly_the_cap_is_read(self, bot: BotUnderTest, http: httpx.AsyncClient) -> None:
        """1 MiB is read (and judged: unsigned, 401)."""
        response = await http.post("/slack/events", content=b"x" * MAX_SLACK_BODY_BYTES)
        assert response.status_code == 401


@pytest.fixture
async def impatient(bot: BotUnderTest) -> AsyncIterator[AsgiServer]:
    """The same bot's parts served with a 0.5 s body deadline (the default, 10 s, would make a slow test)."""
    handoff = bot.bot
    alerts = handoff.config.alerts
    routes = alert_routes(
        alerts.sources,
        AlertIntake(handoff.stores.inbox),
        alerts.routing,
        registry=CollectorRegistry(),
        read_timeout_s=0.5,
    )

    async def nothing() -> None:
        return None

    app = build_asgi(
        handoff.bolt,
        handoff.metrics,
        handoff.readiness,
        start=nothing,
        stop=nothing,
        signing_secret=SIGNING_SECRET,
        routes=routes,
        limits=InboundLimits(read_timeout_s=0.5),
    )
    server = await AsgiServer(app).start()
    try:
        yield server
    finally:
        await server.stop()


class TestReadDeadline:
    @pytest.mark.parametrize("path", ["/slack/events", "/alerts/alertmanager"])
    async def test_short_body_is_408_and_closed(self, impatient: AsgiServer, path: str) -> None:
        """Finding: a request declaring more than it sends held the connection with no read timeout.
        Now: 408 once the deadline passes, and the connection is closed."""
        head = (
            f"POST {path} HTTP/1.1\nHost: handoff\nAuthorization: Bearer {AM_TOKEN}\n"
            "Content-Type: application/json\nContent-Length: 1000\n"
        )
        answer = await raw_request(impatient.host, impatient.port, head, b'{"alerts": [')
        assert answer.status == 408
        assert answer.closed
        assert "connection: close" in answer.head.lower()


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """bot.logging at INFO, JSON into a buffer, as `handoff serve` runs; everything it changes is put back."""
    monkeypatch.setattr(bot_logging, "_SECRETS", set())
    names = ("", "apscheduler", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in map(logging.getLogger, names)]
    config = structlog.get_config()
    stream = io.StringIO()
    bot_logging.configure("info", "json", stream=stream)
    try:
        yield stream
    finally:
        logging.captureWarnings(False)
        for lg, handlers, level, propagate in saved:
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate
        structlog.configure(**config)


class TestNothingLogged:
    async def test_refused_body_is_not_logged_at_info(
        self, bot: BotUnderTest, http: httpx.AsyncClient, json_logs: io.StringIO
    ) -> None:
        """Finding: at INFO Bolt logged the whole body of a refused request (response_url, trigger_id). Now the
        guard refuses it first and logs only the reason; nothing of the body, nothing of its signature."""
        body = command_body(bot)
        headers = slack_headers(body, secret="not-the-signing-secret")
        assert (await http.post("/slack/events", content=body, headers=headers)).status_code == 401
        text = json_logs.getvalue()
        assert "response-url-secret-path" not in text
        assert TRIGGER_ID not in text
        assert headers["X-Slack-Signature"] not in text
        refused = [json.loads(line) for line in text.splitlines() if "slack_request_refused" in line]
        assert [(r["status"], r["reason"]) for r in refused] == [(401, "bad_signature")]

    async def test_bolts_own_refusal_line_drops_the_body(
        self, bot: BotUnderTest, json_logs: io.StringIO
    ) -> None:
        """Should Bolt ever see a badly signed request (mounted without the guard), its INFO line keeps the fact
        and drops the body (bot/logging.py)."""
        body = command_body(bot).decode()
        headers = bolt_headers(slack_headers(body.encode(), secret="not-the-signing-secret"))
        response = await bot.bot.bolt.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        assert response.status == 401
        text = json_logs.getvalue()
        lines = [json.loads(line) for line in text.splitlines()]
        assert any(line["event"] == "Invalid request signature detected" for line in lines), text
        assert "response-url-secret-path" not in text
        assert TRIGGER_ID not in text


class TestErrorHandler:
    async def test_unverified_request_reaching_bolt_messages_nobody(self, bot: BotUnderTest) -> None:
        """Defence in depth: Bolt mounted without the guard, a timestamp `abc` makes its verification raise and
        its error handler run; that handler messages nobody for a request whose signature was not verified."""
        before = await seen(bot)
        body = command_body(bot).decode()
        headers = bolt_headers({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"})
        with stdlib_records() as records:
            await bot.bot.bolt.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        assert await seen(bot) == before
        assert not any(r.exc_info for r in records.records if r.name.startswith("handoff")), records.text()

    async def test_verified_request_failing_is_told(self, bot: BotUnderTest) -> None:
        """Control: the same handler still answers the person of a verified request whose listener failed."""
        from bot.http_guard import SIGNATURE_VERIFIED

        before = await seen(bot)
        body = command_body(bot).decode()
        headers = bolt_headers({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"})
        request = AsyncBoltRequest(body=body, headers=headers, context={SIGNATURE_VERIFIED: True})
        await bot.bot.bolt.async_dispatch(request)
        told = bot.sb.calls()[before.calls :]
        assert told, "the person of a verified request was not told"
        assert {c.method for c in told} <= {"chat.postEphemeral", "chat.postMessage", "conversations.open"}


class TestAlertTimestamps:
    @pytest.mark.parametrize("timestamp", ["\u00b2", "\u00b9\u00b2\u00b3", "9" * 5000, "-1", "1.5"])
    async def test_valid_hmac_with_bad_timestamp_is_401(
        self, bot: BotUnderTest, http: httpx.AsyncClient, timestamp: str
    ) -> None:
        """Finding: a valid HMAC over timestamp `²` was a 500 (`str.isdigit` accepts it, `int` raises). Now 401,
        nothing enters the inbox; the same body with a proper timestamp is accepted."""
        body = json.dumps({"dedup_key": "k1", "status": "firing", "summary": "s"}).encode()
        before = await seen(bot)
        headers = {
            k.encode(): v.encode("latin-1") for k, v in hmac_headers("generic", body, timestamp).items()
        }
        response = await http.post("/alerts/generic", content=body, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "unauthorized"}
        assert await seen(bot) == before
        good = hmac_headers("generic", body, str(int(time.time())))
        assert (await http.post("/alerts/generic", content=body, headers=good)).status_code == 202

    async def test_bearer_source_still_accepts(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/alerts/alertmanager", content=AM_BODY, headers={"Authorization": f"Bearer {AM_TOKEN}"}
        )
        assert response.status_code == 202

    async def test_declared_body_over_cap_is_413_at_once(self, bot: BotUnderTest) -> None:
        assert bot.server is not None
        head = "POST /alerts/generic HTTP/1.1\nHost: handoff\nContent-Length: 10000000\n"
        answer = await raw_request(bot.server.host, bot.server.port, head)
        assert answer.status == 413
        assert "connection: close" in answer.head.lower()
        assert GENERIC_SECRET  # the source exists: refused on size, not as unknown


def test_serve_uses_the_connection_limits() -> None:
    """`handoff serve` hands uvicorn its connection limits (h11, header size, keep-alive, no server header)."""
    config = uvicorn.Config(Starlette(), **SERVER_LIMITS)
    assert config.http == "h11"
    assert config.h11_max_incomplete_event_size == 16 * 1024
    assert config.timeout_keep_alive == 5
    assert config.server_header is False
