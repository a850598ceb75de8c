"""The `permissions:` section of the config: rows replaced per deployment, mistakes named by file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PermissionsConfig, load_config
from bot.domain.permissions import DEFAULT_TABLE, Action, Role
from bot.yamlfile import YamlFileError

SIDES = "sides:\n  mlops: {users: [U123]}\n  dataops: {users: [U456], leads: [U789]}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "handoff.yaml"
    path.write_text(SIDES + text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(YamlFileError) as failed:
        load_config(path, env={})
    return [str(p) for p in failed.value.problems]


class TestPermissionsSection:
    def test_no_section_is_the_default_table(self, tmp_path: Path) -> None:
        config = load_config(write(tmp_path, ""), env={})
        assert config.permissions.table() == dict(DEFAULT_TABLE)

    def test_a_row_given_replaces_the_default(self, tmp_path: Path) -> None:
        text = (
            "permissions:\n"
            "  close: [mlops.leads, dataops.leads, opener]\n"
            "  view_private: [channel_members, mlops.leads]\n"
            "  run_playbook: [side.responders, side.leads, mlops.leads]\n"
        )
        table = load_config(write(tmp_path, text), env={}).permissions.table()
        assert table[Action.CLOSE] == {Role.MLOPS_LEADS, Role.DATAOPS_LEADS, Role.OPENER}
        assert table[Action.VIEW_PRIVATE] == {Role.CHANNEL_MEMBERS, Role.MLOPS_LEADS}
        assert table[Action.RUN_PLAYBOOK] == {Role.SIDE_RESPONDERS, Role.SIDE_LEADS, Role.MLOPS_LEADS}
        assert table[Action.REOPEN] == DEFAULT_TABLE[Action.REOPEN]

    def test_an_unknown_role_names_file_line_and_field(self, tmp_path: Path) -> None:
        path = write(tmp_path, "permissions:\n  snooze: [mlops.responders]\n  close: [mlops.leads, admins]\n")
        [problem] = problems(path)
        assert problem.startswith(f"{path}:6: permissions.close.1:")
        assert "mlops.leads" in problem  # the accepted roles are listed

    def test_an_unknown_action_names_file_line_and_field(self, tmp_path: Path) -> None:
        path = write(tmp_path, "permissions:\n  closee: [mlops.leads]\n")
        [problem] = problems(path)
        assert problem.startswith(f"{path}:5: permissions.closee:")
        assert "Extra inputs are not permitted" in problem

    def test_side_roles_outside_side_actions_are_refused(self, tmp_path: Path) -> None:
        path = write(tmp_path, "permissions:\n  close: [side.leads]\n")
        [problem] = problems(path)
        assert problem.startswith(f"{path}:5: permissions.close:")
        assert "apply only to set_evidence, confirm and run_playbook" in problem

    def test_an_empty_row_is_refused(self, tmp_path: Path) -> None:
        path = write(tmp_path, "permissions:\n  reopen_decided: []\n")
        [problem] = problems(path)
        assert problem.startswith(f"{path}:5: permissions.reopen_decided:")

    def test_every_action_can_be_configured(self) -> None:
        assert set(PermissionsConfig.model_fields) == {a.value for a in Action}
