"""``python -m slack_sandbox`` (what ``handoff sandbox`` runs) serves until interrupted."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
from slack_sdk import WebClient


def test_run_sandbox_serves_and_stops() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # `with` closes the stdout pipe and reaps the process, however the test ends (no ResourceWarning).
    with subprocess.Popen(
        [sys.executable, "-m", "slack_sandbox", "--port", str(port), "--signing-secret", "cli-secret"],
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(4)]
            assert lines[0].strip() == f"Slack stand-in at http://127.0.0.1:{port}"
            token = lines[2].strip().split("=", 1)[1]
            assert lines[3].strip() == "SLACK_SIGNING_SECRET=cli-secret"
            client = WebClient(token=token, base_url=f"http://127.0.0.1:{port}/api/")
            assert client.auth_test()["ok"]
            state = httpx.get(f"http://127.0.0.1:{port}/_sandbox/state").json()
            assert {u["name"] for u in state["users"]} >= {"alice", "bob"}
        finally:
            proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0
