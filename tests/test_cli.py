"""The command line: missing settings and bad config stop with exit 2 and name each problem, never a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "bot" / "defaults" / "handoff.example.yaml"


def handoff(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HANDOFF_", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env={**clean, **(env or {})}, capture_output=True, text=True
    )


class TestServeSettings:
    def test_no_environment_names_every_missing_variable(self) -> None:
        """`handoff serve` with nothing set exits 2 and names each missing variable."""
        done = handoff("serve")
        assert done.returncode == 2
        for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "HANDOFF_CONFIG"):
            assert var in done.stderr

    def test_invalid_values_are_named_but_not_printed(self) -> None:
        """A malformed token is reported by name; its value never appears in the output."""
        secret = "not-a-bot-token-supersecret"
        done = handoff(
            "serve", env={"SLACK_BOT_TOKEN": secret, "SLACK_SIGNING_SECRET": "s", "HANDOFF_CONFIG": "x"}
        )
        assert done.returncode == 2
        assert "SLACK_BOT_TOKEN" in done.stderr
        assert secret not in done.stderr + done.stdout


class TestCheckConfig:
    def test_example_config_is_valid(self) -> None:
        """The shipped example validates once its ${...} secrets are in the environment."""
        env = {
            name: "x" * 12
            for name in (
                "HANDOFF_ALERTMANAGER_TOKEN",
                "HANDOFF_GRAFANA_SECRET",
                "HANDOFF_GX_TOKEN",
                "HANDOFF_SODA_TOKEN",
                "HANDOFF_GENERIC_SECRET",
            )
        }
        done = handoff("check-config", str(EXAMPLE), env=env)
        assert done.returncode == 0, done.stderr
        assert "configuration is valid" in done.stdout

    def test_yaml_syntax_error_names_file_and_line(self, tmp_path: Path) -> None:
        """A YAML error is reported as file:line."""
        bad = tmp_path / "bad.yaml"
        bad.write_text("sides:\n  mlops: {users: [U123]}\n  dataops: {users: [U456]\n")
        done = handoff("check-config", str(bad))
        assert done.returncode == 2
        assert f"{bad}:4" in done.stderr or f"{bad}:3" in done.stderr
        assert "YAML syntax error" in done.stderr

    def test_wrong_field_names_the_field_and_line(self, tmp_path: Path) -> None:
        """A misspelt field and a bad value are each reported with file, line and field."""
        bad = tmp_path / "bad.yaml"
        bad.write_text(
            "sides:\n  mlops: {users: [U123]}\n  dataops: {users: [nope]}\nchanel: {private: true}\n"
        )
        done = handoff("check-config", str(bad))
        assert done.returncode == 2
        assert f"{bad}:3: sides.dataops.users.0" in done.stderr
        assert f"{bad}:4: chanel: Extra inputs are not permitted" in done.stderr

    def test_missing_secret_reference_names_the_variable(self, tmp_path: Path) -> None:
        """A `${NAME}` whose variable is unset is reported with its field and line."""
        conf = tmp_path / "c.yaml"
        conf.write_text(
            "sides:\n  mlops: {users: [U123]}\n  dataops: {users: [U456]}\nalerts:\n  sources:\n"
            "    am: {kind: alertmanager, secret: '${AM_TOKEN_FOR_TEST}'}\n"
        )
        done = handoff("check-config", str(conf))
        assert done.returncode == 2
        assert "alerts.sources.am.secret: environment variable AM_TOKEN_FOR_TEST is not set" in done.stderr

    def test_bad_playbook_fails_check_config_with_file_line_field(self, tmp_path: Path) -> None:
        """A playbook with a typo in a step fails check-config naming the playbook file, line and field."""
        folder = tmp_path / "playbooks"
        folder.mkdir()
        (folder / "broken.yaml").write_text(
            "name: broken\nside: dataops\ndescription: d\ntriggers: {manual: true}\nsteps:\n"
            "  - id: f\n    kind: sql_freshness\n    item: table_freshness\n    url: duckdb:///x\n"
            "    table: t\n    max_agee: 1h\n"
        )
        conf = tmp_path / "c.yaml"
        conf.write_text(
            "sides:\n  mlops: {users: [U123]}\n  dataops: {users: [U456]}\nplaybooks: {folders: [playbooks]}\n"
        )
        done = handoff("check-config", str(conf))
        assert done.returncode == 2
        assert str(folder / "broken.yaml") in done.stderr
        assert "max_agee" in done.stderr
