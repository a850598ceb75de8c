"""Where the repository, the recorded payloads (tests/fixtures) and the Slack method reference live."""

from __future__ import annotations

from pathlib import Path

from slack_sandbox.reference import find_reference_dir

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def fixture(path: str) -> Path:
    """A recorded payload under tests/fixtures (see its NOTICE.md for where each came from)."""
    return FIXTURES / path


def method_reference(method: str) -> Path:
    """The stand-in's packaged reference file for one Web API method."""
    return find_reference_dir() / "methods" / f"{method}.json"
