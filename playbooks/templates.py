"""Templates in playbook strings: `{param}`, `{asset.KIND}`, `{labels.KEY}` and secret `${ENV}` references."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, SecretStr

# `${NAME}` first, so that its braces are never read as a `{ref}`. A `{...}` that does not look like a
# reference (PromQL's `{job="api"}`) is left alone.
_TEMPLATE = re.compile(
    r"\$\{(?P<env>[A-Za-z_][A-Za-z0-9_]*)\}|\{(?P<ref>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_.\-]+)?)\}"
)

Loc = tuple[str | int, ...]
M = TypeVar("M")


class RefKind(StrEnum):
    ENV = "env"
    PARAM = "param"
    ASSET = "asset"
    LABEL = "label"
    INVALID = "invalid"  # `{foo.bar}` with a namespace that does not exist


@dataclass(frozen=True)
class Ref:
    kind: RefKind
    name: str
    text: str  # as written, e.g. `{asset.table}`


class Verbatim:
    """Field metadata: the text is used as written (SQL text); references in it are not substituted."""


class UnresolvedReference(Exception):
    """A reference that has no value in this run (no such asset, label or environment variable)."""


def _ref(match: re.Match[str]) -> Ref:
    if match.group("env") is not None:
        return Ref(RefKind.ENV, match.group("env"), match.group(0))
    ref = match.group("ref")
    namespace, dot, rest = ref.partition(".")
    if not dot:
        return Ref(RefKind.PARAM, ref, match.group(0))
    if namespace == "asset":
        return Ref(RefKind.ASSET, rest, match.group(0))
    if namespace == "labels":
        return Ref(RefKind.LABEL, rest, match.group(0))
    return Ref(RefKind.INVALID, ref, match.group(0))


def references(text: str) -> list[Ref]:
    return [_ref(m) for m in _TEMPLATE.finditer(text)]


def has_references(text: str) -> bool:
    return _TEMPLATE.search(text) is not None


def render(text: str, resolve: Callable[[Ref], str]) -> str:
    """Substitute every reference; `resolve` raises UnresolvedReference for one it cannot fill."""
    return _TEMPLATE.sub(lambda m: resolve(_ref(m)), text)


def _marked(annotation: object) -> bool:
    # pydantic lifts Annotated metadata into FieldInfo only at the top level, not out of `X | None`.
    if any(isinstance(m, Verbatim) for m in getattr(annotation, "__metadata__", ())):
        return True
    return any(_marked(arg) for arg in get_args(annotation))


def _verbatim(model: type[BaseModel], field: str) -> bool:
    info = model.model_fields[field]
    return any(isinstance(m, Verbatim) for m in info.metadata) or _marked(info.annotation)


def field_metadata(model: type[BaseModel], field: str, kind: type[M]) -> M | None:
    """The first metadata object of type `kind` on the field, also from inside `X | None`."""
    info = model.model_fields[field]
    for item in info.metadata:
        if isinstance(item, kind):
            return item
    return _metadata_in(info.annotation, kind)


def _metadata_in(annotation: object, kind: type[M]) -> M | None:
    for item in getattr(annotation, "__metadata__", ()):
        if isinstance(item, kind):
            return item
    for arg in get_args(annotation):
        found = _metadata_in(arg, kind)
        if found is not None:
            return found
    return None


def template_fields(model: BaseModel, prefix: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Every string of `model` that may hold references, with its location (SecretStr values included)."""
    for name in type(model).model_fields:
        if name == "kind" or _verbatim(type(model), name):
            continue
        yield from _strings((*prefix, name), getattr(model, name))


def verbatim_fields(model: BaseModel) -> Iterator[tuple[Loc, str]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if _verbatim(type(model), name) and isinstance(value, str):
            yield (name,), value


def _strings(loc: Loc, value: object) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, SecretStr):
        yield loc, value.get_secret_value()
    elif isinstance(value, BaseModel):
        yield from template_fields(value, loc)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings((*loc, str(key)), item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings((*loc, index), item)


def map_templates(model: BaseModel, fn: Callable[[str], str]) -> dict[str, Any]:
    """The model's field values with `fn` applied to every template string, ready to validate again."""
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        out[name] = value if name == "kind" or _verbatim(type(model), name) else _mapped(value, fn)
    return out


def _mapped(value: object, fn: Callable[[str], str]) -> object:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, SecretStr):
        return SecretStr(fn(value.get_secret_value()))
    if isinstance(value, BaseModel):
        return map_templates(value, fn)
    if isinstance(value, dict):
        return {key: _mapped(item, fn) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mapped(item, fn) for item in value]
    return value
