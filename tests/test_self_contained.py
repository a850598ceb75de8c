"""The checkout is self-contained: no file outside docs/ reaches into a reference folder beside it.

Users get this repository alone, so a path into a sibling folder (the one the builders' reference material sits in,
or its Slack and fixture subfolders, however the path is joined) works on the machine it was written on and
nowhere else. This test scans the files git knows (tracked, plus new ones not ignored; every file under the root
when git is not there) and names each file:line that does. The folder's name is assembled below, so that this file
does not match its own patterns.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NAME = "sha" + "red"  # the sibling folder's name, assembled so that this file holds no path into it

# Each pattern, and what it finds.
PATTERNS = {
    re.compile(rf"\.\.[/\\]+{NAME}\b"): "a relative path into the parent's reference folder",
    re.compile(
        rf"\b{NAME}[/\\]+(?:slack|fixtures)\b"
    ): "a path into the reference folder's slack or fixtures",
    re.compile(rf"[\"'/]{NAME}[/\\]"): "a path starting at the reference folder",
    re.compile(rf"[\"']{NAME}[\"']\s*\)?\s*/"): "a pathlib join starting at the reference folder",
    re.compile(rf"/\s*[\"']{NAME}[\"']"): "a pathlib join into the reference folder",
    re.compile(rf",\s*[\"']{NAME}[\"']\s*[,)]"): "an os.path.join into the reference folder",
}
SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules"}
MAX_BYTES = 5_000_000


def project_files() -> list[str]:
    """Paths relative to the root: git's tracked and untracked-but-not-ignored files, else a walk of the tree."""
    try:
        listed = subprocess.run(
            [
                "git",
                "-c",
                f"safe.directory={ROOT}",
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [p for p in listed.split("\0") if p and (ROOT / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for folder, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
            files += [(Path(folder) / n).relative_to(ROOT).as_posix() for n in names]
        return files


def references(files: list[str]) -> list[str]:
    found = []
    for rel in sorted(files):
        if rel.startswith("docs/"):
            continue
        path = ROOT / rel
        if path.stat().st_size > MAX_BYTES:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # binary (images, archives)
            continue
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            for pattern, what in PATTERNS.items():
                if match := pattern.search(line):
                    found.append(f"{rel}:{number}: {what}: {match.group(0)!r} in {line.strip()[:160]!r}")
    return found


def test_patterns_find_what_they_are_for() -> None:
    """Each kind of reference is caught (the lines are assembled here so this file never holds them)."""
    sep, name = "/", NAME
    up = ".." + sep
    examples = [
        f'ROOT = HERE.parent / "{up}{name}"',
        f"cp {up}{name}{sep}fixtures/alerts/*.json tests/",
        f'DATA = "/work/{name}{sep}slack/methods"',
        f'Path(__file__).parents[2] {sep} "{name}" {sep} "slack"',
        f'base {sep} "{name}" {sep} "fixtures"',
        f'os.path.join(root, "{name}", "x")',
    ]
    for example in examples:
        assert any(p.search(example) for p in PATTERNS), example
    ordinary = [f"{NAME}: list[Any] = []", f'"is_ext_{NAME}": false', f"Helpers {NAME} by method handlers"]
    for line in ordinary:
        assert not any(p.search(line) for p in PATTERNS), line


def test_no_file_outside_docs_reaches_into_the_reference_folder() -> None:
    files = project_files()
    assert len(files) > 50, f"found only {len(files)} files under {ROOT}"
    found = references(files)
    assert not found, "paths into a folder outside the checkout:\n" + "\n".join(found)
