"""Hostile requests against the whole bot served over HTTP: never a 5xx, and nothing at all from one that is not
authenticated (no Slack Web API call, no alert kept, no ERROR line).

Hypothesis generates the cases (derandomized: the same cases every run); they are then sent concurrently, with
httpx for well-formed HTTP and on raw sockets for lying framing (a Content-Length that is not the body's).
Every alert source kind (with and without valid credentials) and /slack/events (unsigned, badly signed, bad
timestamps, signed garbage, bodies over the cap) are covered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import strategies as st

from slack_sandbox import SlackSandbox
from tests.security.hostile import OVER_CAP, Auth, Case, Framing, cases
from tests.security.support import guarded_bot, seen, stdlib_records
from tests.support.bot import BotUnderTest

# Generated; the unauthenticated batch drops what turned out authenticated (VALID to a known target).
UNAUTHENTICATED_CASES = 1000
AUTHENTICATED_CASES = 600
CONCURRENCY = 16


# --- Sending -------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    case: Case
    status: int | None  # None: the server closed the connection without an answer
    error: str = ""


async def send(client: httpx.AsyncClient, host: str, port: int, case: Case) -> Outcome:
    if case.framing in (Framing.HONEST, Framing.CHUNKED):
        return await _send_httpx(client, case)
    return await _send_raw(host, port, case)


async def _send_httpx(client: httpx.AsyncClient, case: Case) -> Outcome:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in case.headers()]
    headers = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"transfer-encoding")]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(case.body), 64 * 1024):
            yield case.body[start : start + 64 * 1024]

    content: Any = chunks() if case.framing is Framing.CHUNKED else case.body
    try:
        response = await client.post(case.path, content=content, headers=headers)
    except httpx.LocalProtocolError as exc:  # a header value the client itself refuses to send
        return Outcome(case, 0, f"client refused: {exc}")
    except httpx.TransportError as exc:
        return Outcome(case, None, repr(exc))
    return Outcome(case, response.status_code)


async def _send_raw(host: str, port: int, case: Case) -> Outcome:
    body = case.body[:2000]
    declared = {
        Framing.DECLARED_HUGE: "10000000",
        Framing.DECLARED_LESS: str(len(body) // 2),
        Framing.DECLARED_BAD: "\u00b2",
    }[case.framing]
    lines = [
        f"POST {case.path} HTTP/1.1",
        "Host: handoff",
        "Connection: close",
        f"Content-Length: {declared}",
    ]
    lines += [f"{k}: {v}" for k, v in case.headers() if k.lower() not in ("content-length", "connection")]
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        async with asyncio.timeout(60):  # bounds a broken run only; no timing is asserted
            answer = await reader.read(65536)
    except (ConnectionError, TimeoutError) as exc:
        return Outcome(case, None, repr(exc))
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    if not answer:
        return Outcome(case, None, "closed without an answer")
    return Outcome(case, int(answer.split(b" ", 2)[1]))


async def send_all(bot: BotUnderTest, batch: list[Case]) -> list[Outcome]:
    assert bot.server is not None
    host, port = bot.server.host, bot.server.port
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=bot.server.base_url, timeout=60, limits=limits) as client:

        async def one(case: Case) -> Outcome:
            async with gate:
                return await send(client, host, port, case)

        return await asyncio.gather(*(one(c) for c in batch))


def failure(outcome: Outcome) -> bool:
    """A 5xx, or no answer at all; except for a body over the cap sent whole: the server answers 413 and closes
    at once, and the client, still writing, may see the connection reset before it reads the answer."""
    if outcome.status is None:
        whole = outcome.case.framing in (Framing.HONEST, Framing.CHUNKED)
        return not (whole and len(outcome.case.body) >= OVER_CAP)
    return outcome.status >= 500


def statuses(outcomes: list[Outcome]) -> str:
    return str(sorted(Counter(str(o.status) for o in outcomes).items()))


def describe(outcomes: list[Outcome]) -> str:
    shown = outcomes[:10]
    return "\n".join(
        f"{o.status} {o.case.path} auth={o.case.auth.value} framing={o.case.framing.value} "
        f"body={o.case.body[:120]!r} extra={o.case.extra} {o.error}"
        for o in shown
    )


# --- The test ------------------------------------------------------------------------------------------------


@pytest.fixture
async def bot(sb: SlackSandbox, redis_url: str) -> AsyncIterator[BotUnderTest]:
    async with guarded_bot(sb, redis_url) as under_test:
        yield under_test


async def test_hostile_requests(bot: BotUnderTest) -> None:
    """Over 1,000 hostile requests: the unauthenticated ones change nothing; none of them gets a 5xx."""
    generated = cases(st.sampled_from(list(Auth)), UNAUTHENTICATED_CASES)
    unauthenticated = [c for c in generated if not c.authenticated]
    authenticated = [c for c in cases(st.just(Auth.VALID), AUTHENTICATED_CASES) if c.authenticated]

    before = await seen(bot)
    with stdlib_records() as records:
        refused = await send_all(bot, unauthenticated)
    failed = [o for o in refused if failure(o)]
    assert not failed, f"{len(failed)} answers were 5xx or none:\n" + describe(failed)
    assert await seen(bot) == before, "an unauthenticated request had an effect"
    assert records.at_error() == [], records.text()[:3000]
    assert {o.status for o in refused} <= {0, None, 400, 401, 404, 408, 413}, statuses(refused)

    accepted = await send_all(bot, authenticated)
    failed = [o for o in accepted if failure(o)]
    assert not failed, f"{len(failed)} answers were 5xx or none:\n" + describe(failed)

    sent = [o for o in refused + accepted if o.status != 0]  # 0: a header value httpx itself would not send
    assert len(sent) >= 1000, statuses(refused + accepted)
    # The cases reach past authentication into the parsers and Bolt, not only the refusals.
    assert {202, 422, 200} <= {o.status for o in accepted}, statuses(accepted)
