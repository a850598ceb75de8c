"""What REDIS_WAIT_REPLICAS=1 costs the alert intake: latency with and without WAIT, against a master and a replica.

Usage: .venv/bin/python bench/bench_wait.py [--duration 5] [--connections 8] [--puts 2000]

A private master and one replica (redis-server, no persistence, on free ports on 127.0.0.1) are started and
stopped at the end. Two measurements, each without WAIT (the baseline) and with `WAIT 1 <timeout>`:

1. the webhook: one uvicorn process (one worker) serves `POST /alerts/plain` and `POST /alerts/wait`, the same
   Alertmanager route on the same master, the second with the stores' WAIT option; wrk, in another process,
   posts the recorded fixture to each in turn (bounded by --duration), printing p50/p99 and requests/s;
2. the inbox alone: `AlertInbox.put` of one alert, --puts times in a row from one client, p50/p99.

Loopback replication is as fast as it gets: on a network the WAIT cost grows by the round trip to the replica.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_alerts import FIXTURE, LUA, ROOT, TOKEN, free_port, run_wrk, stop, wait_ready

WAIT_TIMEOUT_MS = 1000


def start_server(port: int, replica_of: int | None = None) -> subprocess.Popen[bytes]:
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    if replica_of is not None:
        args += ["--replicaof", "127.0.0.1", str(replica_of)]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    wait_ready(port, server)
    return server


def wait_in_sync(master_port: int, timeout_s: float = 30.0) -> None:
    from redis import Redis

    client = Redis(port=master_port)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            info: dict[str, Any] = client.info("replication")  # type: ignore[assignment]  # sync client
            if info.get("connected_slaves") == 1 and info.get("slave0", {}).get("state") == "online":
                return
            time.sleep(0.05)
        raise SystemExit("the replica did not come online")
    finally:
        client.close()


def serve(port: int, redis_url: str) -> None:
    """The server process: the Alertmanager route twice, without and with WAIT 1."""
    sys.path.insert(0, str(ROOT))
    import logging

    import structlog
    import uvicorn
    from prometheus_client import CollectorRegistry
    from redis.asyncio import Redis
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from bot.alerts.config import AlertSourceConfig
    from bot.alerts.kinds import SourceKind
    from bot.alerts.routing import RoutingRules
    from bot.services.intake import AlertIntake
    from bot.store.alert_inbox import AlertInbox
    from bot.store.replicas import NO_WAIT, ReplicaWait
    from handlers.alerts.webhook import alert_routes

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    redis = Redis.from_url(redis_url)
    sources = {"am": AlertSourceConfig(kind=SourceKind.ALERTMANAGER, secret=TOKEN)}

    def routes(wait: ReplicaWait) -> list[Any]:
        inbox = AlertInbox(redis, maxlen=1_000_000, wait=wait)
        return list(alert_routes(sources, AlertIntake(inbox), RoutingRules(), registry=CollectorRegistry()))

    app = Starlette(
        routes=[
            Mount("/plain", routes=routes(NO_WAIT)),
            Mount("/wait", routes=routes(ReplicaWait(replicas=1, timeout_ms=WAIT_TIMEOUT_MS))),
        ]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", access_log=False)


async def put_latencies(redis_url: str, puts: int) -> dict[str, list[float]]:
    """Milliseconds per `AlertInbox.put` of one alert, without and with WAIT 1, interleaved in blocks."""
    sys.path.insert(0, str(ROOT))
    from redis.asyncio import Redis

    from bot.domain.alerts import Alert, AlertStatus
    from bot.domain.models import Severity
    from bot.store.alert_inbox import AlertInbox
    from bot.store.replicas import NO_WAIT, ReplicaWait

    redis = Redis.from_url(redis_url)
    inboxes = {
        "no WAIT": AlertInbox(redis, wait=NO_WAIT),
        "WAIT 1": AlertInbox(redis, wait=ReplicaWait(replicas=1, timeout_ms=WAIT_TIMEOUT_MS)),
    }
    alert = Alert(
        source="bench", dedup_key="bench", status=AlertStatus.FIRING, severity=Severity.SEV3, summary="bench"
    )
    out: dict[str, list[float]] = {name: [] for name in inboxes}
    try:
        for inbox in inboxes.values():  # warm: connections, script cache
            for _ in range(50):
                await inbox.put([alert])
        for _ in range(puts // 100):
            for name, inbox in inboxes.items():  # alternate blocks: both see the same machine noise
                for _ in range(100):
                    start = time.perf_counter()
                    await inbox.put([alert])
                    out[name].append((time.perf_counter() - start) * 1000)
    finally:
        await redis.flushdb()
        await redis.aclose()
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5, help="wrk seconds per route (default 5)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--puts", type=int, default=2000, help="inbox puts per mode (default 2000)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve and args.redis:
        serve(args.serve, args.redis)
        return
    args.threads = 1
    master_port, replica_port, port = free_port(), free_port(), free_port()
    master = start_server(master_port)
    replica = start_server(replica_port, replica_of=master_port)
    redis_url = f"redis://127.0.0.1:{master_port}/0"
    server = None
    try:
        wait_in_sync(master_port)
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--redis", redis_url])
        wait_ready(port, server)
        web: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "post.lua"
            script.write_text(LUA % {"body": FIXTURE.read_text(encoding="utf-8"), "token": TOKEN})
            warm = argparse.Namespace(**{**vars(args), "duration": 1})
            for name, path in (("no WAIT", "/plain/alerts/am"), ("WAIT 1", "/wait/alerts/am")):
                run_wrk(f"http://127.0.0.1:{port}{path}", script, warm)
                web[name] = run_wrk(f"http://127.0.0.1:{port}{path}", script, args)
        puts = asyncio.run(put_latencies(redis_url, args.puts))
    finally:
        if server is not None:
            stop(server)
        stop(replica)
        stop(master)

    print(
        f"master + 1 replica on 127.0.0.1, WAIT timeout {WAIT_TIMEOUT_MS} ms, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"webhook: wrk -t1 -c{args.connections} -d{args.duration}s, uvicorn 1 worker, 2 alerts per request")
    print(f"{'mode':<10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'errors':>8}")
    for name, f in web.items():
        print(
            f"{name:<10}{f['rps']:>10.0f}{f['p50_us'] / 1000:>9.2f}{f['p99_us'] / 1000:>9.2f}"
            f"{f['non_2xx']:>9}{f['socket_errors']:>8}"
        )
    plain, waited = web["no WAIT"], web["WAIT 1"]
    print(
        f"WAIT / no WAIT: p50 {waited['p50_us'] / plain['p50_us']:.2f}x, p99 {waited['p99_us'] / plain['p99_us']:.2f}x, "
        f"req/s {waited['rps'] / plain['rps']:.2f}x"
    )
    print(f"inbox.put alone, one client, {len(puts['no WAIT'])} puts per mode")
    print(f"{'mode':<10}{'p50 ms':>9}{'p99 ms':>9}")
    for name, values in puts.items():
        print(f"{name:<10}{pct(values, 50):>9.3f}{pct(values, 99):>9.3f}")
    ratio50 = pct(puts["WAIT 1"], 50) / pct(puts["no WAIT"], 50)
    ratio99 = pct(puts["WAIT 1"], 99) / pct(puts["no WAIT"], 99)
    print(f"WAIT / no WAIT: p50 {ratio50:.2f}x, p99 {ratio99:.2f}x")


if __name__ == "__main__":
    main()
