"""SQL identifiers that a playbook may name: a strict pattern, so a parameter can never carry SQL; and the
allow-lists of the names and places a value taken from the alert may choose."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from playbooks.errors import StepError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
IDENTIFIER_RULE = (
    "letters, digits and underscores, starting with a letter or underscore, at most 63 characters"
)


def is_identifier(text: str) -> bool:
    return IDENTIFIER.fullmatch(text) is not None


def is_table_name(text: str) -> bool:
    parts = text.split(".")
    return 1 <= len(parts) <= 3 and all(is_identifier(p) for p in parts)


@dataclass(frozen=True)
class TableName:
    """`table`, `schema.table` or `catalog.schema.table`, each part a checked identifier."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> TableName:
        if not is_table_name(text):
            raise StepError(f"the table is not a valid name ({IDENTIFIER_RULE}, up to 3 dotted parts)")
        return cls(tuple(text.split(".")))

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def schema(self) -> str | None:
        return self.parts[-2] if len(self.parts) >= 2 else None

    def __str__(self) -> str:
        return ".".join(self.parts)


def column_name(text: str) -> str:
    if not is_identifier(text):
        raise StepError(f"the column is not a valid name ({IDENTIFIER_RULE})")
    return text


# --- Allow-lists: the names and places a value from the alert may choose ---------------------------------

NameKind = Literal["tables", "columns", "urls"]
_NOUN: dict[str, str] = {"tables": "table", "columns": "column", "urls": "URL"}


@dataclass(frozen=True)
class AllowListed:
    """Field metadata: a value the alert chooses for this field must be on the allow-list of this kind."""

    kind: NameKind


class AllowList(BaseModel):
    """What a value taken from the alert (`{labels.*}`, `{asset.*}`) may name, on a step or a playbook.

    `tables` and `columns` are globs (`analytics.*`, `updated_*`), matched case-sensitively on the whole name;
    `urls` are prefixes: the same scheme, host and port, and a path that starts with the entry's path.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tables: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list)
    columns: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list)
    urls: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(default_factory=list)

    def entries(self, kind: NameKind) -> list[str]:
        return list(getattr(self, kind))

    def merged(self, other: AllowList | None) -> AllowList:
        if other is None:
            return self
        return AllowList(
            tables=[*self.tables, *other.tables],
            columns=[*self.columns, *other.columns],
            urls=[*self.urls, *other.urls],
        )

    def allows(self, kind: NameKind, value: str) -> bool:
        if kind == "urls":
            return any(location_within(value, entry) for entry in self.urls)
        return any(fnmatch.fnmatchcase(value, glob) for glob in self.entries(kind))


def noun(kind: NameKind) -> str:
    return _NOUN[kind]


def _location(text: str) -> tuple[str, str, int | None, str] | None:
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    port = port if port is not None else _DEFAULT_PORTS.get(scheme)
    # Decoded: SQLAlchemy decodes a database path, and a server may decode `%2F` and `%2E`.
    return scheme, (parts.hostname or "").lower(), port, unquote(parts.path) or "/"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def location_within(value: str, entry: str) -> bool:
    """`value` is at or under the prefix `entry`: same scheme, host and port, and the path below its path.

    A value with `..` in its path (also percent-encoded) is never within. `user:password@` plays no part (a
    SQL URL carries one).
    """
    found, allowed = _location(value), _location(entry)
    if found is None or allowed is None or found[:3] != allowed[:3]:
        return False
    path, prefix = found[3], allowed[3]
    if ".." in path.split("/"):
        return False
    return path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/")
