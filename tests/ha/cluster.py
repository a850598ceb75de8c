"""A Sentinel-managed Redis on loopback: a master, its replicas and three Sentinels, each a redis-server process.

Sentinels are `redis-server <conf> --sentinel` (what Debian's redis-sentinel package runs): no other package.
Timeouts are short (down after 1 s, failover timeout 3 s) so a failover takes a few seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.services import free_port, port_open, wait_until

SERVICE = "handoff"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


def _binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
    return found


@dataclass
class Node:
    """One redis-server process (a data node or a Sentinel), in its own folder."""

    name: str
    folder: Path
    port: int = field(default_factory=free_port)
    password: str | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self, args: list[str]) -> Node:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 (kept open for the process's lifetime)
        self.proc = subprocess.Popen(
            [_binary(), *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, start_new_session=True
        )
        log.close()
        wait_until(lambda: port_open(self.port), 10, f"{self.name} on port {self.port}")
        return self

    def ask(self, *command: object) -> object:
        """One command, on a connection of its own (closed after)."""
        with redis.Redis(port=self.port, password=self.password, socket_timeout=5) as client:
            return client.execute_command(*command)

    def replication(self) -> dict[str, object]:
        with redis.Redis(port=self.port, password=self.password, socket_timeout=5) as client:
            return dict(client.info("replication"))

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to tell anyone."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


@dataclass
class SentinelCluster:
    """1 master, `replicas` replicas, `sentinel_count` Sentinels (quorum 2, or 1 with a single Sentinel), all on
    127.0.0.1; with `password`, Redis and the Sentinels require it (`sentinel_password` for the Sentinels)."""

    replicas: int = 2
    sentinel_count: int = 3
    password: str | None = None
    sentinel_password: str | None = None
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="handoff-ha-")))
    master: Node | None = None
    data: list[Node] = field(default_factory=list)
    sentinels: list[Node] = field(default_factory=list)

    @property
    def sentinel_setting(self) -> str:
        """REDIS_SENTINELS for the bot."""
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def _data_node(self, name: str, master_port: int | None) -> Node:
        node = Node(name, self.root / name, password=self.password)
        args = ["--port", str(node.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(node.folder), "--repl-diskless-sync-delay", "0"]
        if self.password:
            args += ["--requirepass", self.password, "--masterauth", self.password]
        if master_port is not None:
            args += ["--replicaof", "127.0.0.1", str(master_port)]
        return node.start(args)

    def _sentinel(self, index: int, master_port: int) -> Node:
        node = Node(f"sentinel-{index}", self.root / f"sentinel-{index}", password=self.sentinel_password)
        node.folder.mkdir(parents=True, exist_ok=True)
        conf = node.folder / "sentinel.conf"  # a Sentinel rewrites its config file: one of its own
        quorum = min(2, self.sentinel_count)
        lines = [
            f"port {node.port}",
            "bind 127.0.0.1",
            f"dir {node.folder}",
            f"sentinel monitor {SERVICE} 127.0.0.1 {master_port} {quorum}",
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}",
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}",
            f"sentinel parallel-syncs {SERVICE} 2",
        ]
        if self.password:
            lines.append(f"sentinel auth-pass {SERVICE} {self.password}")
        if self.sentinel_password:
            lines += [
                f"requirepass {self.sentinel_password}",
                f"sentinel sentinel-pass {self.sentinel_password}",
            ]
        conf.write_text("\n".join(lines) + "\n")
        return node.start([str(conf), "--sentinel"])

    def start(self) -> SentinelCluster:
        try:
            self.master = self._data_node("master", None)
            self.data = [self.master]
            self.data += [self._data_node(f"replica-{i}", self.master.port) for i in range(self.replicas)]
            self.sentinels = [self._sentinel(i, self.master.port) for i in range(self.sentinel_count)]
            wait_until(self._ready, 30, "replication and the Sentinels")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        """Every replica in sync, and every Sentinel sees them all and the two other Sentinels."""
        assert self.master is not None
        info = self.master.replication()
        online = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
        if len([r for r in online if r.get("state") == "online"]) < self.replicas:
            return False
        for sentinel in self.sentinels:
            state = sentinel.ask("SENTINEL", "MASTER", SERVICE)
            assert isinstance(state, list)
            fields = dict(zip(state[::2], state[1::2], strict=True))
            if int(fields[b"num-slaves"]) < self.replicas:
                return False
            if int(fields[b"num-other-sentinels"]) < self.sentinel_count - 1:
                return False
        return True

    def master_port(self) -> int:
        """The port the Sentinels name as the master now."""
        answer = self.sentinels[0].ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
        assert isinstance(answer, list)
        return int(answer[1])

    def kill_master(self) -> Node:
        """SIGKILL the current master; returns it (dead)."""
        port = self.master_port()
        node = next(n for n in self.data if n.port == port)
        node.kill()
        return node

    def failed_over(self, old_port: int) -> bool:
        """Every Sentinel names a new master, and it answers as one."""
        try:
            answers = [s.ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE) for s in self.sentinels]
            ports = {int(a[1]) for a in answers if isinstance(a, list)}
            if len(ports) != 1 or old_port in ports:
                return False
            node = next(n for n in self.data if n.port in ports)
            return node.replication()["role"] == "master"
        except (redis.RedisError, StopIteration):
            return False

    def stop(self) -> None:
        for node in [*self.sentinels, *self.data]:
            node.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        """The tail of every node's log, for a failure's message."""
        out = []
        for node in [*self.data, *self.sentinels]:
            path = node.folder / "server.log"
            if path.exists():
                out.append(
                    f"--- {node.name} (port {node.port})\n" + "\n".join(path.read_text().splitlines()[-15:])
                )
        return "\n".join(out)


def wait_for(check: object, timeout: float, what: str) -> float:
    """Seconds until `check()` held (polling every 50 ms); RuntimeError after `timeout`."""
    start = time.monotonic()
    wait_until(check, timeout, what)
    return time.monotonic() - start
