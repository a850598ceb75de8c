"""Load a YAML file into a pydantic model, reporting each problem as `file:line: field: message`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class YamlFileError(Exception):
    """One or more problems in a YAML file; str() gives one line per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every mapping key and sequence item by its path."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[Loc, int] = {}


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines)


def parse_yaml(text: str, file: str) -> tuple[Any, dict[Loc, int]]:
    """The data and a map from each path to its line; YamlFileError on a syntax error."""
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Loc, int] = {}
        _walk(node, (), lines)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlFileError([Problem(file, line, "", f"YAML syntax error: {exc.problem}")]) from None
    finally:
        loader.dispose()
    return data, lines


def _line_for(loc: Loc, lines: dict[Loc, int]) -> int | None:
    # pydantic puts union tags (e.g. a step's `kind`) into the loc: skip parts that are not in the document.
    path: Loc = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
    return lines.get(path)


def problems_from(exc: ValidationError, file: str, lines: dict[Loc, int]) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc)
        out.append(Problem(file, _line_for(loc, lines), field, err["msg"]))
    return out


def load_model(path: Path, model: type[M], context: dict[str, Any] | None = None) -> M:
    """Read `path` and validate it as `model`; YamlFileError names the file, line and field of each problem."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlFileError([Problem(file, None, "", f"cannot read: {exc.strerror}")]) from None
    return validate_text(text, file, model, context)


def validate_text(text: str, file: str, model: type[M], context: dict[str, Any] | None = None) -> M:
    data, lines = parse_yaml(text, file)
    if data is None:
        data = {}
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise YamlFileError(problems_from(exc, file, lines)) from None
