"""Who may import whom: the layers of docs/architecture.md, read from the code's import graph."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.imports import ROOT, cycles, describe, import_graph, module_name

PRODUCTION = ("bot", "handlers", "playbooks", "slack_sandbox")
LISTENER_MAX_LINES = 40
# What a listener may never reach for: storage, the Slack client, or Redis (it gets `Services` and nothing else).
LISTENER_FORBIDDEN_NAMES = {"store", "gateway", "client", "redis", "extras"}


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_names(path: Path) -> Iterator[tuple[int, str]]:
    """Every module name a file imports (relative imports resolved), at any depth, TYPE_CHECKING included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def offences(package: str, banned: tuple[str, ...], allow: tuple[str, ...] = ()) -> list[str]:
    found = []
    for path in files(package):
        rel = str(path.relative_to(ROOT))
        if any(rel.startswith(a) for a in allow):
            continue
        for line, name in imported_names(path):
            if any(name == b or name.startswith(b + ".") for b in banned):
                found.append(f"{rel}:{line} imports {name}")
    return sorted(set(found))


class TestLayers:
    def test_listeners_reach_only_services(self) -> None:
        """handlers/ imports neither the store, the Slack gateway nor redis: listeners get `Services` only."""
        assert offences("handlers", ("bot.store", "bot.slack.gateway", "redis")) == []

    def test_services_do_not_touch_redis(self) -> None:
        """bot/services/ works through the store interfaces: no redis, no key names."""
        assert offences("bot/services", ("redis", "bot.store.keys")) == []

    def test_production_does_not_import_the_stand_in(self) -> None:
        """The Slack stand-in is for the demo, the CLI and tests; the bot itself never imports it."""
        allow = ("bot/demo/", "bot/cli.py")
        for package in ("bot", "handlers", "playbooks"):
            assert offences(package, ("slack_sandbox",), allow) == []

    def test_the_stand_in_stands_alone(self) -> None:
        """slack_sandbox imports nothing of the bot: it could be published on its own."""
        assert offences("slack_sandbox", ("bot", "handlers", "playbooks")) == []

    def test_the_checker_sees_relative_and_nested_imports(self, tmp_path: Path) -> None:
        """The import reader resolves relative imports and finds imports inside functions."""
        module = ROOT / "handlers" / "actions" / "snooze.py"
        names = {n for _, n in imported_names(module)}
        assert "bot.services.deps" in names
        assert "handlers.listener.ack_then" in names


class TestNoImportCircles:
    def test_no_circle_anywhere(self) -> None:
        """No import circle among the production packages, counting imports inside functions too."""
        graph = import_graph(PRODUCTION)
        found = cycles(graph)
        assert not found, "\n".join(describe(graph, c) for c in found)


def listener_functions() -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for path in files("handlers"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", node


class TestListeners:
    @pytest.mark.parametrize(("where", "node"), list(listener_functions()), ids=lambda v: str(v)[:60])
    def test_every_function_is_short(self, where: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Listeners stay thin: every function under handlers/ is 40 lines or fewer."""
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        assert length <= LISTENER_MAX_LINES, f"{where} is {length} lines"

    def test_no_listener_names_storage_or_the_client(self) -> None:
        """No attribute or parameter under handlers/ is the store, the gateway, a Slack client or Redis."""
        found = []
        for where, node in listener_functions():
            params = {a.arg for a in [*node.args.args, *node.args.kwonlyargs]}
            attrs = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
            bad = (params | attrs) & LISTENER_FORBIDDEN_NAMES
            if bad:
                found.append(f"{where}: {sorted(bad)}")
        assert found == []
