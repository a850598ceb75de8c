"""SQL identifiers that a playbook may name: a strict pattern, so a parameter can never carry SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
            raise StepError(f"table {text!r} is not a valid name ({IDENTIFIER_RULE}, up to 3 dotted parts)")
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
        raise StepError(f"column {text!r} is not a valid name ({IDENTIFIER_RULE})")
    return text
