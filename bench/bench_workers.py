"""Playbook workers: 100 queued runs of 8 steps of 0.2 s each, on 1, 2 and 4 `handoff worker` processes.

A private Redis and the Slack stand-in; one incident opened by the bot, then the runs queued straight on the run
queue (as `handoff serve` does) and the workers, already started and idle, carry them out: progress messages,
findings into the checklist. Wall time = from the first request queued to the last one acked. Prints each wall
time and the speed-up against one worker.

    .venv/bin/python bench/bench_workers.py [--runs 100] [--concurrency 2] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.store import connect  # noqa: E402
from bot.store.base import RunRequest  # noqa: E402
from bot.store.keys import RUN_QUEUE  # noqa: E402
from slack_sandbox import SlackSandbox  # noqa: E402
from tests.playbooks.servers import LocalServer, Reply  # noqa: E402
from tests.scenarios.steps import open_incident  # noqa: E402
from tests.support.bot import SIGNING_SECRET, BotUnderTest, make_team, team_config  # noqa: E402
from tests.support.services import RedisServer  # noqa: E402
from tests.workers.support import WorkerProcess, playbook_yaml, process_env, write_config  # noqa: E402

STEPS, STEP_SECONDS = 8, 0.2


async def one(
    workers: int, runs: int, bot: BotUnderTest, incident_id: str, env: dict[str, str], tmp: Path
) -> float:
    stores = connect(bot.redis_url)
    procs = [WorkerProcess(env, tmp / f"worker-{workers}-{i}.log") for i in range(workers)]
    try:
        await asyncio.sleep(3.0)  # the workers start (imports, auth.test) and wait on the queue
        started = time.perf_counter()
        for _ in range(runs):
            await stores.runs.enqueue(RunRequest(uuid.uuid4().hex, incident_id, "bench-steps", None))
        while await stores.redis.xlen(RUN_QUEUE) > 0:  # acked requests are deleted
            if any(p.proc.poll() is not None for p in procs):
                raise RuntimeError("a worker stopped:\n" + "\n".join(p.output()[-2000:] for p in procs))
            await asyncio.sleep(0.02)
        return time.perf_counter() - started
    finally:
        for proc in procs:
            proc.stop()
        await stores.aclose()


async def main(runs: int, concurrency: int, counts: list[int]) -> dict[int, float]:
    tmp = Path(tempfile.mkdtemp(prefix="handoff-bench-workers-"))
    redis = RedisServer().start()
    endpoint = LocalServer().start()
    endpoint.route("GET", "/step", Reply(200, {"ok": True}, delay=STEP_SECONDS))
    sb = SlackSandbox(signing_secret=SIGNING_SECRET)
    await sb.start()
    try:
        folder = tmp / "playbooks"
        folder.mkdir()
        steps = [{"id": f"s{i}", "kind": "http_health", "item": "serving_health", "url": "${B_ENDPOINT}/step",
                  "latency_budget": "10s"} for i in range(STEPS)]  # fmt: skip
        (folder / "bench.yaml").write_text(playbook_yaml("bench-steps", "mlops", steps, ["sev1"]))
        team = make_team(sb)
        workers = {"concurrency": concurrency, "per_playbook": concurrency}
        playbooks = {"folders": [str(folder)], "builtin": False, "execution": "workers", "workers": workers}
        config = team_config(team, playbooks=playbooks)
        bot = await BotUnderTest(
            sb=sb, team=team, config=config, redis_url=f"{redis.url.rsplit('/', 1)[0]}/0"
        ).start()
        incident = await open_incident(bot)
        await bot.stop()
        env = process_env(sb, bot.redis_url, write_config(tmp / "handoff.yaml", config), B_ENDPOINT=endpoint.url,
                          LOG_LEVEL="warning")  # fmt: skip
        return {n: await one(n, runs, bot, incident.id, env, tmp) for n in counts}
    finally:
        await sb.stop()
        endpoint.stop()
        redis.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2, help="runs at once per worker")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    walls = asyncio.run(main(args.runs, args.concurrency, counts))
    ideal = args.runs * STEP_SECONDS / args.concurrency
    print(f"\nplaybook workers: {args.runs} runs x {STEPS} steps of {STEP_SECONDS} s, {args.concurrency} run(s) "
          f"at once per worker\n")  # fmt: skip
    print(f"{'workers':>8} {'wall s':>8} {'ideal s':>8} {'speed-up':>9} {'of linear':>10}")
    base = walls[counts[0]] * counts[0]
    for n, wall in walls.items():
        print(f"{n:8d} {wall:8.2f} {ideal / n:8.2f} {base / wall / counts[0]:8.2f}x {base / wall / n:9.0%}")
    print(f"RESULT workers_speedup_{counts[-1]} {walls[counts[0]] / walls[counts[-1]]:.2f}")
