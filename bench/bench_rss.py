"""Idle memory of `handoff serve` (Handoff's ASGI app under uvicorn) against a bare Bolt app, in one run.

Both are started as subprocesses (bench/ack_servers.py), left idle for a few seconds, and their VmRSS read from
/proc/PID/status. Goal: Handoff at most 1.5x the bare Bolt app.

    .venv/bin/python bench/bench_rss.py
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_ack import SECRET, serve  # noqa: E402
from slack_sandbox import SlackSandbox  # noqa: E402
from tests.support.services import RedisServer, free_port  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="handoff-bench-rss-"))
    redis = RedisServer().start()
    sb = SlackSandbox(signing_secret=SECRET)
    sb.start_in_thread()
    user = sb.add_user("bench").id
    (folder / "handoff.yaml").write_text(
        f"sides:\n  mlops: {{users: [{user}]}}\n  dataops: {{users: [{user}]}}\n"
    )
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": sb.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": sb.api_url,
        "REDIS_URL": redis.url,
        "HANDOFF_CONFIG": str(folder / "handoff.yaml"),
        "PYTHONPATH": str(ROOT),
    }
    rss: dict[str, float] = {}
    try:
        for kind in ("bare", "handoff"):
            proc = serve(kind, free_port(), env)
            try:
                time.sleep(3.0)  # idle: start-up done, nothing in flight
                rss[kind] = rss_mb(proc.pid)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(10)
    finally:
        sb.stop_in_thread()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    ratio = rss["handoff"] / rss["bare"]
    print("\nidle RSS after start-up (built-in playbooks loaded, none run)\n")
    print(f"{'bare Bolt app (baseline)':40} {rss['bare']:8.1f} MB")
    print(f"{'Handoff (handoff serve app)':40} {rss['handoff']:8.1f} MB  {ratio:.2f}x")
    print(f"RESULT rss {rss['handoff']:.1f} {rss['bare']:.1f} {ratio:.2f}")


if __name__ == "__main__":
    main()
