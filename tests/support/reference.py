"""Where the shared Slack reference data and fixtures live (read at test time, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    env = os.environ.get("HANDOFF_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared", ROOT / "shared"]
    for candidate in candidates:
        if (candidate / "slack" / "methods").is_dir():
            return candidate
    raise RuntimeError(f"shared/ reference data not found; looked in {[str(c) for c in candidates]}")


def fixture(path: str) -> Path:
    return shared_dir() / "fixtures" / path
