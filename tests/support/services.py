"""Real Redis and PostgreSQL for the test session: use the running ones, or start our own and stop them.

Each server of our own lives in a temporary folder that `stop()` removes (also after `kill()`), and that is
removed at exit at the latest, so test runs leave no /tmp/handoff-redis-* or /tmp/handoff-pg-* behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} was not ready after {timeout} s")


def remove_at_exit(owner: object, folder: Path) -> None:
    """Remove `folder` when `owner` is garbage-collected or the interpreter exits, if nothing removed it before."""
    weakref.finalize(owner, shutil.rmtree, str(folder), True)


@dataclass
class RedisServer:
    """A redis-server process of our own (for durability tests, or when none runs)."""

    port: int = field(default_factory=free_port)
    appendonly: bool = False
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="handoff-redis-")))
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        remove_at_exit(self, self.dir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
        self.dir.mkdir(parents=True, exist_ok=True)
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", str(self.dir)]
        args += (
            ["--appendonly", "yes", "--appendfsync", "always"] if self.appendonly else ["--appendonly", "no"]
        )
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_until(lambda: port_open(self.port), 10, f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        """Stop the server (if it runs) and remove its folder, data included; `start()` begins empty again."""
        try:
            if self.proc and self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
        finally:
            self.proc = None
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL, as a crash: the folder (the AOF file) stays for a restart with `start()`; `stop()` removes it."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of our own, run as the postgres user (it refuses root)."""

    port: int = field(default_factory=free_port)
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="handoff-pg-")))

    def __post_init__(self) -> None:
        remove_at_exit(self, self.dir)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _bin(self, name: str) -> str:
        found = shutil.which(name)
        if found:
            return found
        for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
            return str(candidate)
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")

    def _as_postgres(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres")
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> PostgresServer:
        self.dir.mkdir(parents=True, exist_ok=True)
        data = self.dir / "data"
        self._as_postgres(self._bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(self._bin("pg_ctl"), "-D", str(data), "-o", opts, "-w", "start")
        return self

    def stop(self) -> None:
        """Stop the cluster and remove its folder."""
        data = self.dir / "data"
        try:
            if (data / "postmaster.pid").exists():
                self._as_postgres(self._bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
