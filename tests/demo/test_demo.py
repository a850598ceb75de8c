"""The demo plays each scenario to the owner DOMAIN.md gives, with no workspace, config file or Redis of the
user's; `handoff demo` fails in one plain line, serves its page until Ctrl-C/SIGTERM, and leaves nothing behind.
"""

from __future__ import annotations

import io
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import pytest
import redis.asyncio as aioredis
from rich.console import Console

from bot.demo.errors import DemoError
from bot.demo.runner import DemoOptions, run_demo
from bot.demo.scenarios import SCENARIOS
from bot.demo.transcript import Transcript
from bot.domain.models import Owner, Side

EXPECTED = {
    "stale-table": (Owner.DATAOPS, Side.DATAOPS),
    "serving-outage": (Owner.MLOPS, Side.MLOPS),
    "population-shift": (Owner.JOINT, Side.MLOPS),
    "dispute": (Owner.DATAOPS, Side.DATAOPS),
}
DECISION_LINE = {
    "stale-table": "Ownership decision posted: DataOps",
    "serving-outage": "Ownership decision posted: MLOps",
    "population-shift": "Ownership decision posted: Joint",
    "dispute": "Ownership decision posted: DataOps",
}
PAGE_LINE = re.compile(
    r"^Open #(\S+) in the Slack stand-in \(Ctrl-C to stop\): (http://127\.0\.0\.1:\d+/\?as=\w+&channel=(\S+))$"
)
REDIS_FOLDER = re.compile(r"(/\S*/handoff-demo-\w+)/redis")


def demo_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The user's environment without anything that could point the demo at their services."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "HANDOFF_", "REDIS_URL")) and k != "TMPDIR"
    }
    env["TMPDIR"] = str(tmp)
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "400"  # no wrapped lines in the transcript
    env.update(extra)
    return env


def demo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "demo", *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def no_redis_server_path(tmp: Path) -> str:
    """A PATH without redis-server (the demo needs nothing else from PATH before it starts Redis)."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    assert shutil.which("redis-server", path=str(bin_dir)) is None
    return str(bin_dir)


def leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("handoff-demo-"))


class TestScenarios:
    def test_every_scenario_has_an_expected_owner(self) -> None:
        """The table below covers every scenario the demo offers."""
        assert set(EXPECTED) == set(SCENARIOS)
        for name, (owner, primary) in EXPECTED.items():
            assert (SCENARIOS[name].owner, SCENARIOS[name].primary) == (owner, primary)

    async def test_all_scenarios_reach_the_domain_owner(self) -> None:
        """`--all`: each scenario, in its own workspace against a fresh database of one private redis-server,
        reaches the posted decision with the owner the domain rules give; the dispute goes through joint triage."""
        console = Console(record=True, width=200, force_terminal=False)
        code = await run_demo(DemoOptions(scenarios=list(SCENARIOS)), Transcript(console))
        text = console.export_text()
        assert code == 0, text
        sections = re.split(r"─+ Handoff demo: ", text)[1:]
        assert [s.split(" ", 1)[0] for s in sections] == list(SCENARIOS), text
        for name, section in zip(SCENARIOS, sections, strict=True):
            assert DECISION_LINE[name] in section, section
            assert "as the domain rules give" in section, section
        assert "joint triage needed" in sections[-1]
        assert text.count("Redis ready: a private redis-server on 127.0.0.1:") == 1

    async def test_a_named_database_is_the_only_one_touched(self, redis_url: str) -> None:
        """With a database named, the demo uses (and flushes) that one and starts no redis-server."""
        named = redis_url.rsplit("/", 1)[0] + "/13"
        client = aioredis.Redis.from_url(named)
        other = aioredis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/12")
        try:
            await client.set("left-over", "1")
            await other.set("someone-elses", "1")
            console = Console(record=True, width=200, force_terminal=False)
            code = await run_demo(DemoOptions(redis_url=named), Transcript(console))
            text = console.export_text()
            assert code == 0, text
            assert "database 13, which you named: flushed" in text
            assert "private redis-server" not in text
            assert await client.get("left-over") is None
            assert await client.dbsize() > 0  # the demo's incident is left there to look at
            assert await other.get("someone-elses") == b"1"
        finally:
            await other.delete("someone-elses")
            await client.flushdb()
            await client.aclose()
            await other.aclose()

    async def test_an_unknown_scenario_is_a_demo_error(self) -> None:
        with pytest.raises(DemoError, match="choose one of stale-table"):
            await run_demo(DemoOptions(scenarios=["nope"]), Transcript(Console(file=io.StringIO())))


class TestFailures:
    def test_setup_error_is_one_plain_line(self, tmp_path: Path) -> None:
        """No redis-server and no database named: one line saying what failed and how to fix it, no traceback."""
        env = demo_env(tmp_path, PATH=no_redis_server_path(tmp_path))
        done = subprocess.run(
            demo_command("--exit"), env=env, capture_output=True, text=True, timeout=60, cwd="/"
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stderr.splitlines() == [
            "demo: could not start Redis: redis-server is not installed; run scripts/setup or apt-get install "
            "redis-server (or name a Redis database the demo may flush with --redis-url)"
        ], done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        assert leftovers(tmp_path) == []

    def test_debug_adds_the_traceback(self, tmp_path: Path) -> None:
        env = demo_env(tmp_path, PATH=no_redis_server_path(tmp_path))
        done = subprocess.run(
            demo_command("--exit", "--debug"), env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1
        assert "Traceback (most recent call last)" in done.stderr
        assert "in private_redis" in done.stderr
        assert done.stderr.splitlines()[-1].startswith(
            "demo: could not start Redis: redis-server is not installed"
        )

    def test_a_named_redis_that_does_not_answer(self, tmp_path: Path) -> None:
        """A database named through HANDOFF_DEMO_REDIS_URL that does not answer: one line naming it."""
        url = f"redis://127.0.0.1:{free_port()}/3"
        env = demo_env(tmp_path, HANDOFF_DEMO_REDIS_URL=url)
        done = subprocess.run(demo_command("--exit"), env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1
        lines = done.stderr.splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"demo: could not reach Redis at {url}: ")
        assert "Traceback" not in done.stderr
        assert leftovers(tmp_path) == []


class TestCommand:
    def test_exit_returns_after_the_decision_from_the_root_folder(self, tmp_path: Path) -> None:
        """`handoff demo --exit` from `/`: the decision, exit 0, no temporary folder or redis-server left."""
        env = demo_env(tmp_path)
        done = subprocess.run(
            demo_command("--exit"), env=env, capture_output=True, text=True, timeout=120, cwd="/"
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Ownership decision posted: DataOps" in done.stdout
        assert "as the domain rules give" in done.stdout
        assert "Open #" not in done.stdout  # nothing is served after --exit
        assert done.stderr == ""
        assert leftovers(tmp_path) == []

    def test_serves_the_incident_channel_until_sigterm(self, tmp_path: Path) -> None:
        """Without --exit: the page's URL, naming the incident channel, is the last line; the page answers
        until SIGTERM; then the process exits 0 and its temporary folder (the private Redis's) is gone."""
        proc = subprocess.Popen(
            demo_command(),
            env=demo_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd="/",
        )
        lines = _LineReader(proc.stdout)
        try:
            printed = lines.until(lambda line: line.startswith("Open #"), timeout=90)
            page = PAGE_LINE.match(printed[-1])
            assert page, printed[-1]
            shown, url, linked = page.groups()
            text = "\n".join(printed)
            opened = re.search(r"opened in #(\S+),", text)
            assert opened, text
            assert linked == shown == opened.group(1)
            folder = REDIS_FOLDER.search(text)
            assert folder, text
            assert Path(folder.group(1)).is_dir()
            answer = httpx.get(url, follow_redirects=True, timeout=5)
            assert answer.status_code == 200
            assert f"channel={linked}" in str(answer.url)
            state = httpx.get(url.split("/?")[0] + "/_sandbox/state", timeout=5).json()
            assert linked in [c.get("name") for c in state["channels"]]
            time.sleep(1.0)
            assert lines.drain() == []  # nothing printed after the URL while serving
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert lines.rest() == []  # still the last line
        assert proc.stderr is not None
        assert proc.stderr.read() == ""
        assert not Path(folder.group(1)).exists()
        assert leftovers(tmp_path) == []
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)


class _LineReader:
    """A process's stdout, line by line, with timeouts (a thread reads; the test waits on a queue)."""

    def __init__(self, stream: IO[str] | None) -> None:
        assert stream is not None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.closed = False
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, found: object, timeout: float) -> list[str]:
        assert callable(found)
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                self.closed = True
                break
            seen.append(line)
            if found(line):
                return seen
        raise AssertionError("not printed in time:\n" + "\n".join(seen))

    def drain(self) -> list[str]:
        got: list[str] = []
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return got
            if line is None:
                self.closed = True
                return got
            got.append(line)

    def rest(self) -> list[str]:
        """Whatever is left once the process has ended."""
        self.thread.join(timeout=10)
        return [line for line in self.drain() if line.strip()]
