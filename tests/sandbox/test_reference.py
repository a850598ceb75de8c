"""The reference data ships as package data; one documented variable may point at another copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slack_sandbox.reference import (
    ENV_VAR,
    PACKAGED,
    README_COMMON_ADDITIONS,
    ReferenceNotFoundError,
    find_reference_dir,
    load_reference,
)


def test_packaged_copy_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the override the stand-in reads its own package data, wherever the process runs."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir("/")
    root = find_reference_dir()
    assert root == PACKAGED
    assert (root / "methods" / "chat.postMessage.json").is_file()
    assert (root / "LICENSE-slack-api-ref.md").is_file()


def test_env_var_points_at_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    real = find_reference_dir()
    monkeypatch.setenv(ENV_VAR, str(real / "methods"))  # the methods folder itself is accepted too
    assert find_reference_dir() == real


def test_clear_error_when_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(ReferenceNotFoundError, match=f"methods/_common_errors.json is missing.*{ENV_VAR}"):
        find_reference_dir()


def test_method_data() -> None:
    ref = load_reference()
    post = ref.method("chat.postMessage")
    assert post is not None
    assert (post.http_method, post.json_input_supported, post.tier) == ("POST", True, "t5")
    assert post.required_args == ("channel",)
    assert "chat:write" in post.bot_scopes
    info = ref.method("conversations.info")
    assert info is not None
    assert (info.http_method, info.json_input_supported) == ("GET", False)
    assert {"not_authed", "invalid_auth", "missing_scope", "ratelimited"} <= ref.common_errors
    assert "no_text" in ref.allowed_errors("chat.postMessage")


def test_only_invalid_auth_is_added_to_the_common_errors() -> None:
    ref = load_reference()
    raw = json.loads((ref.root / "methods" / "_common_errors.json").read_text())["errors"]
    assert ref.common_errors - set(raw) == README_COMMON_ADDITIONS == {"invalid_auth"}
    assert "`invalid_auth`" in (ref.root / "README.md").read_text()  # the README names it as common
