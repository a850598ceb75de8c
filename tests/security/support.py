"""The bot under attack: every alert source kind configured, raw-socket requests, signing helpers, call counts."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from bot.alerts.auth import sign
from bot.store import keys
from slack_sandbox import SlackSandbox
from tests.support.bot import SIGNING_SECRET, BotUnderTest, flush, make_team, team_config

AM_TOKEN = "sec-am-token-0123456789"
GX_TOKEN = "sec-gx-token-0123456789"
SODA_TOKEN = "sec-soda-token-0123456789"
GRAFANA_SECRET = "sec-grafana-hmac-secret"
GENERIC_SECRET = "sec-generic-hmac-secret"

BEARER = {"alertmanager": AM_TOKEN, "great_expectations": GX_TOKEN, "soda": SODA_TOKEN}
HMAC = {"grafana": GRAFANA_SECRET, "generic": GENERIC_SECRET, "generic_ts": GENERIC_SECRET}
TIMESTAMP_HEADER = {
    "grafana": "X-Grafana-Alerting-Signature-Timestamp",
    "generic": "X-Handoff-Timestamp",
    "generic_ts": "X-Handoff-Timestamp",
}
SIGNATURE_HEADER = {
    "grafana": "X-Grafana-Alerting-Signature",
    "generic": "X-Handoff-Signature",
    "generic_ts": "X-Handoff-Signature",
}
SOURCES = [*BEARER, *HMAC]


def alert_sources() -> dict[str, Any]:
    """One source of each kind; `generic_ts` refuses signatures without a timestamp."""
    sources: dict[str, Any] = {
        name: {"kind": name, "auth": "bearer", "secret": token} for name, token in BEARER.items()
    }
    sources["grafana"] = {"kind": "grafana", "auth": "hmac", "secret": GRAFANA_SECRET}
    sources["generic"] = {"kind": "generic", "auth": "hmac", "secret": GENERIC_SECRET}
    sources["generic_ts"] = {
        "kind": "generic",
        "auth": "hmac",
        "secret": GENERIC_SECRET,
        "require_timestamp": True,
    }
    return {"announce_after": "0.2s", "sources": sources}


@contextlib.asynccontextmanager
async def guarded_bot(sb: SlackSandbox, redis_url: str) -> AsyncIterator[BotUnderTest]:
    """The whole bot (bot.app.build_handoff) served over HTTP, no workers: an accepted alert stays in the inbox."""
    await flush(redis_url)
    team = make_team(sb)
    bot = BotUnderTest(
        sb=sb, team=team, config=team_config(team, alerts=alert_sources()), redis_url=redis_url
    )
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


def slack_sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 scheme, written out here over the raw bytes (so that a body that is not UTF-8 can be signed)."""
    base = b"v0:" + timestamp.encode("latin-1") + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_headers(body: bytes, timestamp: str | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Headers of a request signed as Slack signs it, now (or at `timestamp`)."""
    ts = str(int(time.time())) if timestamp is None else timestamp
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_sign(secret, ts, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def hmac_headers(
    source: str, body: bytes, timestamp: str | None = None, secret: str | None = None
) -> dict[str, str]:
    """Headers of a correctly signed request to an HMAC source (Grafana's or Handoff's scheme)."""
    headers = {SIGNATURE_HEADER[source]: "sha256=" + sign(secret or HMAC[source], body, timestamp)}
    if timestamp is not None:
        headers[TIMESTAMP_HEADER[source]] = timestamp
    return headers


@dataclass
class Seen:
    """What the outside world saw of the bot: Slack Web API calls and alerts in the inbox."""

    calls: int
    inbox: int


async def seen(bot: BotUnderTest) -> Seen:
    """Counted after the bot's background work (anything a request started) has finished."""
    await bot.bot.services.tasks.drain(30)
    inbox = await bot.bot.stores.redis.xlen(keys.ALERT_STREAM)
    return Seen(calls=len(bot.sb.calls()), inbox=inbox)


@dataclass
class RawAnswer:
    status: int
    head: str
    closed: bool  # the server closed the connection after its answer


async def raw_request(
    host: str, port: int, head: str, body: bytes = b"", *, keep_sending: bool = False
) -> RawAnswer:
    """Send `head` (request line and headers) and `body` on a raw socket, then read until the server closes.

    The safety limit (60 s) only bounds a broken test; nothing asserts how long the answer took.
    """
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(60):
            data = await reader.read(65536)
            rest = data
            while chunk := await reader.read(65536):
                rest += chunk
        status_line, _, _ = rest.partition(b"\r\n")
        return RawAnswer(status=int(status_line.split()[1]), head=rest.decode("latin-1"), closed=True)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


class Records(logging.Handler):
    """Every standard-library log record, from the root logger and uvicorn's (which do not propagate)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(f"{r.levelname} {r.name} {r.getMessage()} {r.exc_text or ''}" for r in self.records)

    def at_error(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= logging.ERROR or r.exc_info]


@contextlib.contextmanager
def stdlib_records(level: int = logging.INFO) -> Iterator[Records]:
    handler = Records()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(level)
    try:
        yield handler
    finally:
        for lg, old in saved:
            lg.removeHandler(handler)
            lg.setLevel(old)
