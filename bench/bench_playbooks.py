"""Benchmark: a playbook of 8 independent steps, each waiting 1 s on its source, runs in about 1 s, not 8."""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import structlog

from playbooks.runner import RunContext, run_playbook
from playbooks.schema import Playbook
from playbooks.snapshots import InMemorySnapshotStore

STEPS = 8
DELAY = 1.0


class _SlowServer(ThreadingHTTPServer):
    request_queue_size = 64  # the default 5 would make the 6th connect wait for a SYN retry
    daemon_threads = True


class _SlowHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(DELAY)  # the source takes 1 s to answer
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def slow_playbook(base: str) -> Playbook:
    steps = [
        {"id": f"s{i}", "kind": "http_health", "item": "serving_health", "url": f"{base}/model/{i}",
         "latency_budget": "5s", "timeout": "10s", "retries": 0}
        for i in range(STEPS)
    ]  # fmt: skip
    return Playbook.model_validate(
        {"name": "bench-slow-sources", "side": "mlops", "description": "8 sources of 1 s", "steps": steps}
    )


async def measure(playbook: Playbook, concurrency: int) -> tuple[float, float, str]:
    async with httpx.AsyncClient() as http:
        ctx = RunContext(http=http, snapshots=InMemorySnapshotStore(), concurrency=concurrency)
        started = time.perf_counter()
        run = await run_playbook(playbook, {}, ctx)
        wall = time.perf_counter() - started
    bad = [s.id for s in run.steps if s.state.value != "ok"]
    if bad:
        raise SystemExit(f"steps not ok: {bad}")
    slowest = max(run.steps, key=lambda s: s.elapsed or 0.0)
    return wall, slowest.elapsed or 0.0, slowest.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sequential", action="store_true", help="also run one step at a time, to compare")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    server = _SlowServer(("127.0.0.1", 0), _SlowHandler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        playbook = slow_playbook(f"http://127.0.0.1:{server.server_address[1]}")
        runs = [("concurrent", STEPS)] + ([("sequential", 1)] if args.sequential else [])
        for label, concurrency in runs:
            wall, slowest, step = asyncio.run(measure(playbook, concurrency))
            print(
                f"{label:>10}: {STEPS} steps of {DELAY:.0f} s each, concurrency {concurrency}: "
                f"wall {wall:.3f} s, slowest step {step} {slowest:.3f} s, wall/slowest {wall / slowest:.2f}x"
            )
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
