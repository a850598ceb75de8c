"""Import graph of the project's own packages, read with `ast`, and the import cycles in it (Tarjan's SCC)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("bot", "handlers", "playbooks", "slack_sandbox")


@dataclass(frozen=True)
class Import:
    """One import of a project module: who imports what, on which line, and whether only for type checking."""

    importer: str
    imported: str
    line: int
    type_checking: bool
    in_function: bool


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(packages: Iterable[str] = PROJECT_PACKAGES, root: Path = ROOT) -> dict[str, Path]:
    """Every module of the given packages: dotted name -> file."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(
    node: ast.AST, type_checking: bool = False, in_function: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement under `node`, with whether it sits in `if TYPE_CHECKING:` or in a function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, type_checking, in_function
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _walk_stmt(stmt, True, in_function)
            for stmt in child.orelse:
                yield from _walk_stmt(stmt, type_checking, in_function)
        else:
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from _walk(child, type_checking, nested)


def _walk_stmt(
    stmt: ast.stmt, type_checking: bool, in_function: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        yield stmt, type_checking, in_function
    else:
        yield from _walk(stmt, type_checking, in_function)


def _resolve_base(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = importer.split(".")
    if not is_package:
        parts = parts[:-1]
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _owner(name: str, known: Mapping[str, Path]) -> str | None:
    """The longest known module that `name` is or lies in (`pkg.mod.attr` -> `pkg.mod`)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(
    name: str, path: Path, known: Mapping[str, Path], packages: Iterable[str] = PROJECT_PACKAGES
) -> list[Import]:
    """What module `name` imports from the project: `from pkg import module` counts as `pkg.module`."""
    roots = tuple(packages)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node, type_checking, in_function in _walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _resolve_base(name, is_package, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}" if base else alias.name
                targets.append(sub if alias.name != "*" and sub in known else base)
        for target in targets:
            if target.split(".")[0] not in roots:
                continue
            owner = _owner(target, known)
            if owner is not None and owner != name:
                found.append(Import(name, owner, node.lineno, type_checking, in_function))
    return found


def import_graph(
    packages: Iterable[str] = PROJECT_PACKAGES,
    *,
    ignore_type_checking: bool = False,
    root: Path = ROOT,
    within: Iterable[str] | None = None,
) -> dict[str, set[str]]:
    """Module -> the project modules it imports. `within`: keep only edges between modules of those packages."""
    packages = tuple(packages)
    known = modules(packages, root)
    keep = tuple(within) if within is not None else None
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        if keep is not None and not _in(name, keep):
            continue
        edges = graph.setdefault(name, set())
        for imp in imports_of(name, path, known, packages):
            if ignore_type_checking and imp.type_checking:
                continue
            if keep is not None and not _in(imp.imported, keep):
                continue
            edges.add(imp.imported)
    return graph


def _in(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    nodes = sorted(set(graph) | {m for targets in graph.values() for m in targets})
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import circles: every strongly connected component of more than one module (or a self-import)."""
    return sorted(
        (c for c in strongly_connected(graph) if len(c) > 1 or c[0] in set(graph.get(c[0], ()))),
        key=lambda c: (-len(c), c),
    )


def describe(graph: Mapping[str, Iterable[str]], component: list[str]) -> str:
    """A component and its internal edges, for an assertion message."""
    members = set(component)
    edges = [f"  {a} -> {b}" for a in component for b in sorted(graph.get(a, ())) if b in members]
    return f"cycle of {len(component)} modules:\n" + "\n".join(edges)


def imports_from(packages: Iterable[str], forbidden: Iterable[str], root: Path = ROOT) -> list[Import]:
    """Imports in `packages` of anything in the `forbidden` packages (TYPE_CHECKING ones included)."""
    packages = tuple(packages)
    banned = tuple(forbidden)
    everything = (*packages, *banned)
    known = modules(everything, root)
    return [
        imp
        for name, path in known.items()
        if _in(name, packages)
        for imp in imports_of(name, path, known, everything)
        if _in(imp.imported, banned)
    ]
