"""Benchmark: the reminder sweep's cost follows the number of stale incidents, not the number of open ones.

Run: `.venv/bin/python bench/bench_sweep.py` (starts its own redis-server on a free port and stops it), or
`--redis-url redis://host:port/db` to use a Redis you own (that database is FLUSHED).

Slack is left out on purpose: posts go to a gateway that only counts them, so the timings are the sweep's
own reading and deciding (the number of posts is the same, 10, in both set-ups).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
import structlog
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import HandoffConfig, QuietHours, RemindersConfig, SideConfig
from bot.domain.evidence import Checklists
from bot.domain.incident import Incident, ReminderState
from bot.domain.models import IncidentState, Severity, Side
from bot.services.directory import ResponderDirectory
from bot.services.reminders import ReminderService
from bot.slack.gateway import SlackGateway
from bot.store.redis_store import RedisIncidentStore

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
STALE = 10
SIZES = (100, 10_000)
STEADY_RUNS = 30
SENDING_RUNS = 10


class CountingGateway(SlackGateway):
    """Counts chat.postMessage calls instead of making them (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(AsyncWebClient(token="xoxb-bench", base_url="http://127.0.0.1:9/"))
        self.posted = 0

    async def post(
        self, channel: str, text: str, blocks: Sequence[Block] = (), thread_ts: str | None = None
    ) -> str:
        self.posted += 1
        return f"{self.posted}.000000"


def config() -> HandoffConfig:
    return HandoffConfig(
        sides={Side.MLOPS: SideConfig(users=["UML1"]), Side.DATAOPS: SideConfig(users=["UDATA1"])},
        triage_channel="CTRIAGE",
        reminders=RemindersConfig(quiet_hours=QuietHours(timezone="UTC")),
    )


def incident(n: int, stale: bool) -> Incident:
    severity = list(Severity)[n % 4]
    # Stale ones have been quiet longer than any default cadence (SEV4: 1 day); fresh ones for a minute.
    at = NOW - (timedelta(days=2) if stale else timedelta(minutes=1))
    return Incident(
        id=f"INC-{n:05d}",
        title=f"Bench incident {n}",
        severity=severity,
        state=IncidentState.INVESTIGATING,
        created_at=at,
        updated_at=at,
        last_activity_at=at,
        channel_id=f"CBENCH{n:05d}",
        evidence=Checklists().blank_evidence(),
    )


async def populate(store: RedisIncidentStore, open_count: int) -> None:
    incidents = [incident(n, stale=n < STALE) for n in range(open_count)]
    for start in range(0, len(incidents), 500):
        await asyncio.gather(*(store.create(i) for i in incidents[start : start + 500]))


async def rearm(store: RedisIncidentStore, tokens: list[str]) -> None:
    """Make the reminders just sent due again: forget their record and their claims (benchmark only)."""
    for token in tokens:
        incident_id = token.split(":")[1]
        await store.mutate(incident_id, lambda i: i.model_copy(update={"reminders": ReminderState()}))
        await store.release(token)


async def measure(redis: aioredis.Redis, open_count: int) -> dict[str, float]:
    await redis.flushdb()
    store = RedisIncidentStore(redis)
    await populate(store, open_count)
    cfg = config()
    gateway = CountingGateway()
    service = ReminderService(cfg, store, gateway, ResponderDirectory(cfg, gateway), lambda: NOW)

    gc.collect()  # the 10,000 incidents just built are garbage: collect them now, not inside a timing
    sending: list[float] = []
    for _ in range(SENDING_RUNS):
        started = time.perf_counter()
        first = await service.sweep(NOW)
        sending.append((time.perf_counter() - started) * 1000)
        assert len(first.sent) == STALE, first
        await rearm(store, first.sent)
    assert gateway.posted == STALE * SENDING_RUNS, gateway.posted
    await service.sweep(NOW)  # send once more, so the steady sweeps below find nothing newly due

    for _ in range(5):  # warm-up: connection pool, script cache
        await service.sweep(NOW)
    steady: list[float] = []
    for _ in range(STEADY_RUNS):
        started = time.perf_counter()
        report = await service.sweep(NOW)  # nothing newly due: the stale ones are read and decided again
        steady.append((time.perf_counter() - started) * 1000)
        assert report.read == STALE, report
        assert not report.sent, report

    started = time.perf_counter()
    everything = await store.list_active(limit=open_count)
    scan_ms = (time.perf_counter() - started) * 1000
    assert len(everything) == open_count
    return {
        "open": open_count,
        "read": first.read,
        "first_ms": statistics.median(sending),
        "steady_ms": statistics.median(steady),
        "scan_ms": scan_ms,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install -y redis-server), or pass --redis-url")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    proc.terminate()
    sys.exit("redis-server did not start")


async def run(url: str) -> None:
    redis = aioredis.Redis.from_url(url)
    try:
        results = [await measure(redis, n) for n in SIZES]
    finally:
        await redis.flushdb()
        await redis.aclose()
    print(
        f"{'open':>7} {'stale':>6} {'read':>5} {'sending sweep':>14} {'steady sweep':>13} {'full scan':>10}"
    )
    for r in results:
        print(
            f"{r['open']:>7.0f} {STALE:>6} {r['read']:>5.0f} {r['first_ms']:>11.1f} ms"
            f" {r['steady_ms']:>10.2f} ms {r['scan_ms']:>7.1f} ms"
        )
    small, large = results
    print(
        f"ratio {SIZES[1]} / {SIZES[0]} open: steady sweep x{large['steady_ms'] / small['steady_ms']:.2f}, "
        f"sending sweep x{large['first_ms'] / small['first_ms']:.2f}, "
        f"incidents read x{large['read'] / small['read']:.0f}; "
        f"a full scan of the open incidents (list_active) x{large['scan_ms'] / small['scan_ms']:.0f}"
    )
    print(
        f"sending sweep: median of {SENDING_RUNS} sweeps that each read the stale incidents and send their "
        "10 reminders; steady sweep: median of "
        f"{STEADY_RUNS} sweeps with nothing newly due;\nfull scan: what a sweep over all open incidents reads"
    )


def main() -> None:
    # The sweep logs each reminder it sends; a benchmark wants only its table.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--redis-url", help="a Redis database to use; it is flushed")
    args = parser.parse_args()
    if args.redis_url:
        asyncio.run(run(args.redis_url))
        return
    proc, url = start_redis()
    try:
        asyncio.run(run(url))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
