"""Issue 9: the demo plays each scenario to the owner DOMAIN.md gives, with no workspace or config file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from rich.console import Console

from bot.demo.runner import Demo
from bot.demo.scenarios import SCENARIOS
from bot.demo.transcript import Transcript
from bot.domain.models import Owner, Side

EXPECTED = {
    "stale-table": (Owner.DATAOPS, Side.DATAOPS),
    "serving-outage": (Owner.MLOPS, Side.MLOPS),
    "population-shift": (Owner.JOINT, Side.MLOPS),
    "dispute": (Owner.DATAOPS, Side.DATAOPS),
}


class TestScenarios:
    def test_every_scenario_has_an_expected_owner(self) -> None:
        """The table below covers every scenario the demo offers."""
        assert set(EXPECTED) == set(SCENARIOS)

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    async def test_scenario_ends_with_the_domain_owner(self, name: str, redis_url: str) -> None:
        """Each scenario reaches the posted decision with the owner the domain rules give."""
        scenario = SCENARIOS[name]
        assert (scenario.owner, scenario.primary) == EXPECTED[name]
        console = Console(record=True, width=120, force_terminal=False)
        code = await Demo(scenario, False, redis_url, 0, Transcript(console)).run()
        text = console.export_text()
        assert code == 0, text
        assert "Ownership decision posted" in text
        assert "as the domain rules give" in text
        if name == "dispute":
            assert "joint triage needed" in text


class TestCommand:
    def test_handoff_demo_exits_zero_on_embedded_defaults(self, redis_url: str, tmp_path: object) -> None:
        """The README's first command reaches the decision and exits 0, with no config and no Slack."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HANDOFF_CONFIG"))}
        env["REDIS_URL"] = redis_url
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "demo"], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Ownership decision posted: DataOps" in done.stdout
