"""Slash-command ack latency: Handoff's `/incident help` vs a bare Bolt app with a no-op listener.

Each server is one uvicorn process; load comes from wrk in another process with a correctly signed request
(the signature stays valid for Slack's 5-minute window, longer than a run). Prints req/s and latency
percentiles for each, and the ratios to the bare Bolt baseline measured in the same run.

    .venv/bin/python bench/bench_ack.py [--duration 10] [--connections 8]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_sandbox import SlackSandbox  # noqa: E402
from tests.support.services import RedisServer, free_port, port_open  # noqa: E402

SECRET = "bench-signing-secret-0123456789"


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={sig}"}


def command_body(team: str, user: str, channel: str, text: str) -> str:
    return urllib.parse.urlencode(
        {
            "token": "x",
            "team_id": team,
            "team_domain": "bench",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "bench",
            "command": "/incident",
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1:9/hook",
            "trigger_id": "1.2.3",
        }
    )


def wrk_script(body: str, headers: dict[str, str], folder: Path) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = {body!r}".replace("'", '"')]
    lines.append('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"')
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    path = folder / "ack.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} requests were refused:\n{out}")

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        assert m, out
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": ms("50"), "p99": ms("99")}


def serve(kind: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "ack_servers.py"), kind, "--port", str(port)],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{kind} server did not start")
        time.sleep(0.05)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    folder = Path(tempfile.mkdtemp(prefix="handoff-bench-ack-"))
    redis = RedisServer().start()
    sb = SlackSandbox(signing_secret=SECRET)
    sb.start_in_thread()
    user = sb.add_user("bench").id
    channel = sb.add_channel("general", members=[user]).id
    (folder / "handoff.yaml").write_text(
        f"sides:\n  mlops: {{users: [{user}]}}\n  dataops: {{users: [{user}]}}\nplaybooks: {{builtin: false}}\n"
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
    body = command_body(sb.team_id, user, channel, "help")
    results: dict[str, dict[str, float]] = {}
    try:
        for kind in ("bare", "bare-default", "handoff"):
            port = free_port()
            proc = serve(kind, port, env)
            try:
                script = wrk_script(body, signed(body), folder)
                url = f"http://127.0.0.1:{port}/slack/events"
                run_wrk(url, script, 1, args.connections)  # warm-up
                results[kind] = run_wrk(url, script, args.duration, args.connections)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(10)
    finally:
        sb.stop_in_thread()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    base = results["bare"]
    names = {
        "bare": "bare Bolt, process_before_response=True (baseline)",
        "bare-default": "bare Bolt, default mode (ack polled every 10 ms)",
        "handoff": "Handoff `/incident help` (verify, parse, answer)",
    }
    print(f"\nslash-command ack, wrk -t1 -c{args.connections} -d{args.duration}s, one uvicorn worker each\n")
    print(f"{'server':58} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s vs base':>14} {'p50 vs base':>12}")
    for kind, r in results.items():
        print(
            f"{names[kind]:58} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
            f"{r['rps'] / base['rps']:13.2f}x {r['p50'] / base['p50']:11.2f}x"
        )


if __name__ == "__main__":
    main()
