"""Alerts per second through the webhook (uvicorn, one worker, real Redis) beside a no-op baseline, with wrk.

Usage: .venv/bin/python bench/bench_alerts.py [--duration 10] [--connections 32] [--threads 1] [--redis URL]

One uvicorn process (one worker) serves both `POST /noop` (answers 202 at once: the server's own ceiling) and
`POST /alerts/am` (the Alertmanager fixture, bearer-authenticated, normalised and XADDed to Redis). wrk, in
another process, posts the same body with the same headers to each in turn, and a Lua `done()` hook prints its
figures. Traffic stays on 127.0.0.1; each run is bounded by --duration. Redis is a private `redis-server`
started on a free port and stopped at the end (other test runs flush shared databases); with --redis URL an
existing one is used instead, and that database is flushed before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "alerts" / "alertmanager_v4_firing.json"
TOKEN = "bench-token-0123456789"
ALERTS_PER_REQUEST = 2  # the firing fixture carries two alerts

LUA = """\
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d, "mean_us": %%.1f}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def serve(port: int, redis_url: str) -> None:
    """The server process: the alert routes and a no-op route on one uvicorn worker."""
    sys.path.insert(0, str(ROOT))
    import logging

    import structlog
    import uvicorn
    from prometheus_client import CollectorRegistry
    from redis.asyncio import Redis
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from bot.alerts.config import AlertSourceConfig
    from bot.alerts.kinds import SourceKind
    from bot.alerts.routing import RoutingRules
    from bot.asgi import settle_heap
    from bot.services.intake import AlertIntake
    from bot.store.alert_inbox import AlertInbox
    from handlers.alerts.webhook import alert_routes

    # One info line per accepted request is what production logs; the bench measures the intake itself.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    async def noop(request: Request) -> Response:
        return JSONResponse({"accepted": 0}, status_code=202)

    inbox = AlertInbox(Redis.from_url(redis_url), maxlen=1_000_000)
    sources = {"am": AlertSourceConfig(kind=SourceKind.ALERTMANAGER, secret=TOKEN)}
    routes = [
        Route("/noop", noop, methods=["POST"]),
        *alert_routes(sources, AlertIntake(inbox), RoutingRules(), registry=CollectorRegistry()),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        settle_heap()  # as `handoff serve` does once its app is built (bot/cli.py)
        yield

    uvicorn.run(
        Starlette(routes=routes, lifespan=lifespan),
        host="127.0.0.1",
        port=port,
        workers=1,
        log_level="warning",
        access_log=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, server: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server was not ready on port {port} after {timeout_s} s")


def run_wrk(url: str, script: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 30, check=True)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures:\n{out.stdout}\n{out.stderr}")
    figures: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server without persistence, on a free port; ready when it answers PING."""
    if shutil.which("redis-server") is None:
        raise SystemExit(
            "redis-server is not installed: apt-get install -y redis-server, or pass --redis URL"
        )
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_ready(port, server)
    return server, f"redis://127.0.0.1:{port}/0"


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def flush(redis_url: str) -> int:
    """Flush the bench database; the number of alerts the stream held."""
    sys.path.insert(0, str(ROOT))
    from redis import Redis

    from bot.store import keys

    client = Redis.from_url(redis_url)
    try:
        held: int = client.xlen(keys.ALERT_STREAM)  # type: ignore[assignment]  # sync client
        client.flushdb()
        return held
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (the machine has 2 cores)")
    parser.add_argument("--redis", help="use this Redis (its database is flushed) instead of a private one")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve and args.redis:
        serve(args.serve, args.redis)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    if not FIXTURE.exists():
        raise SystemExit(f"missing {FIXTURE}")

    redis_server = None
    if args.redis is None:
        redis_server, args.redis = start_redis()
    flush(args.redis)
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--redis", args.redis])
    try:
        wait_ready(port, server)
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "post.lua"
            script.write_text(LUA % {"body": FIXTURE.read_text(encoding="utf-8"), "token": TOKEN})
            base = f"http://127.0.0.1:{port}"
            # Warm both paths (imports, connection pool) before measuring.
            run_wrk(f"{base}/alerts/am", script, argparse.Namespace(**{**vars(args), "duration": 1}))
            baseline = run_wrk(f"{base}/noop", script, args)
            flush(args.redis)  # the stream now holds only what the measured run stores
            intake = run_wrk(f"{base}/alerts/am", script, args)
        stored = flush(args.redis)
    finally:
        stop(server)
        if redis_server is not None:
            stop(redis_server)

    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, uvicorn 1 worker, "
        f"body {FIXTURE.stat().st_size} B ({ALERTS_PER_REQUEST} alerts), Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, Redis {'given' if redis_server is None else 'private'}"
    )
    print(
        f"{'endpoint':<16}{'req/s':>10}{'alerts/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'errors':>8}"
    )
    for name, f, per in (("POST /noop", baseline, 0), ("POST /alerts/am", intake, ALERTS_PER_REQUEST)):
        alerts = f"{f['rps'] * per:>10.0f}" if per else f"{'-':>10}"
        print(
            f"{name:<16}{f['rps']:>10.0f}{alerts}{f['p50_us'] / 1000:>9.2f}{f['p99_us'] / 1000:>9.2f}"
            f"{f['non_2xx']:>9}{f['socket_errors']:>8}"
        )
    print(f"intake / baseline req/s: {intake['rps'] / baseline['rps']:.2f}")
    print(
        f"alerts in the stream after the intake run: {stored} (wrk counted {intake['requests'] * 2}; "
        "requests still in flight when wrk stops may add a few)"
    )


if __name__ == "__main__":
    main()
