"""Playbook workers under test: `handoff worker` subprocesses against the stand-in and a private Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.config import HandoffConfig
from slack_sandbox import SlackSandbox
from tests.support.bot import SIGNING_SECRET
from tests.support.reference import ROOT


def write_config(path: Path, config: HandoffConfig) -> Path:
    """The config as YAML a subprocess loads (secrets come out masked: the workers do not read them)."""
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_defaults=True)))
    return path


def process_env(sb: SlackSandbox, redis_url: str, config_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "HANDOFF_"))}
    env.update(
        SLACK_BOT_TOKEN=sb.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=sb.api_url,
        REDIS_URL=redis_url,
        HANDOFF_CONFIG=str(config_path),
        LOG_FORMAT="json",
        **extra,
    )
    return env


class WorkerProcess:
    """One `handoff worker` subprocess; its output goes to a file read when a test fails."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no chance to finish or hand anything back."""
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


def playbook_yaml(name: str, side: str, steps: list[dict[str, Any]], severities: list[str]) -> str:
    return yaml.safe_dump(
        {
            "name": name,
            "side": side,
            "description": "A playbook for the worker tests.",
            "triggers": {"severities": severities},
            "steps": steps,
        }
    )
