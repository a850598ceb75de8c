"""A real Prometheus Alertmanager for the tests: its own config, data dir and port, stopped by process group."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.services import free_port

INSTALL_HINT = (
    "Prometheus Alertmanager is not installed; these tests run the real one: "
    "apt-get install -y --no-install-recommends prometheus-alertmanager"
)
BINARIES = ("prometheus-alertmanager", "alertmanager")


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Alertmanager:
    """One Alertmanager process whose single route sends every group to `webhook_url` with a bearer token.

    `group_wait` and `group_interval` are 1 s so a notification follows a posted alert within about a second;
    `repeat_interval` is long, so an unchanged group is never sent twice during a test.
    """

    webhook_url: str
    token: str
    group_by: list[str] = field(default_factory=lambda: ["alertname", "model"])
    port: int = field(default_factory=free_port)
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="handoff-alertmanager-")))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        return {
            "route": {
                "receiver": "handoff",
                "group_by": self.group_by,
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": "24h",
            },
            "receivers": [
                {
                    "name": "handoff",
                    "webhook_configs": [
                        {
                            "url": self.webhook_url,
                            "send_resolved": True,
                            "http_config": {"authorization": {"type": "Bearer", "credentials": self.token}},
                        }
                    ],
                }
            ],
        }

    def start(self, timeout: float = 15.0) -> Alertmanager:
        binary = next((found for name in BINARIES if (found := shutil.which(name))), None)
        if binary is None:
            pytest.fail(INSTALL_HINT, pytrace=False)
        config = self.dir / "alertmanager.yml"
        config.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        (self.dir / "data").mkdir(exist_ok=True)
        log = (self.dir / "alertmanager.log").open("wb")
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",  # no gossip: a single instance, no port to clash
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"Alertmanager exited at start-up ({self.proc.returncode}):\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"Alertmanager was not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        path = self.dir / "alertmanager.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- Its API ----------------------------------------------------------------------------------------

    async def post(self, *alerts: dict[str, Any]) -> None:
        """`POST /api/v2/alerts`, as Prometheus does."""
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(f"{self.url}/api/v2/alerts", json=list(alerts))
        assert response.status_code == 200, response.text

    async def alerts(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{self.url}/api/v2/alerts")
        response.raise_for_status()
        return list(response.json())


def api_alert(labels: dict[str, str], summary: str, *, resolved: bool = False) -> dict[str, Any]:
    """An alert for `POST /api/v2/alerts`: firing (no end), or resolved (its end a minute ago)."""
    now = datetime.now(UTC)
    alert: dict[str, Any] = {"labels": labels, "annotations": {"summary": summary}}
    if resolved:
        alert["startsAt"] = rfc3339(now - timedelta(minutes=10))
        alert["endsAt"] = rfc3339(now - timedelta(minutes=1))
    return alert
