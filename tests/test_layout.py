"""The code's layout: no import circles in the Slack stand-in, no oversized modules, the stand-in stands alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.imports import ROOT, cycles, describe, import_graph, imports_from

MAX_LINES = 400
SIZED = ("bot", "handlers", "playbooks", "slack_sandbox", "bench")


def test_slack_sandbox_has_no_import_cycle() -> None:
    # TYPE_CHECKING imports count too: the stand-in needs none (its seams are protocols).
    graph = import_graph(("slack_sandbox",))
    found = cycles(graph)
    assert not found, "\n".join(describe(graph, c) for c in found)


def test_blocks_modules_do_not_import_their_package() -> None:
    graph = import_graph(("bot",), within=("bot.slack.blocks",))
    inside = {m: edges for m, edges in graph.items() if m != "bot.slack.blocks"}
    assert not [m for m, edges in inside.items() if "bot.slack.blocks" in edges]
    assert not cycles(graph)


@pytest.mark.parametrize("package", SIZED)
def test_no_module_is_over_the_size_limit(package: str) -> None:
    over = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not over, f"modules over {MAX_LINES} lines: {over}"


def test_slack_sandbox_imports_nothing_from_the_bot() -> None:
    found = imports_from(("slack_sandbox",), ("bot", "handlers", "playbooks"))
    assert not found, "\n".join(f"{i.importer}:{i.line} imports {i.imported}" for i in found)


def test_the_import_checker_reads_every_kind_of_import(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "from pkg.a import thing\n",
        "pkg/a.py": "from . import b\nthing = 1\n",
        "pkg/b.py": "def late():\n    from pkg.sub import c\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": (
            "from typing import TYPE_CHECKING\nimport os\nfrom ..a import thing\n"
            "if TYPE_CHECKING:\n    from pkg import b\n"
        ),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(("pkg",), root=tmp_path)
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.sub.c"},
        "pkg.sub": set(),
        "pkg.sub.c": {"pkg.a", "pkg.b"},
    }
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    runtime = import_graph(("pkg",), root=tmp_path, ignore_type_checking=True)
    assert runtime["pkg.sub.c"] == {"pkg.a"}
    assert cycles(runtime) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    runtime["pkg.b"] = set()
    assert cycles(runtime) == []
