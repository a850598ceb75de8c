"""The checking engine: problems with json-pointers, and the primitive checks everything is built of."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# A check looks at the value found at a json-pointer and reports what is wrong to the Validator.
Check = Callable[["Validator", Any, str], None]


@dataclass(frozen=True)
class BlockKitProblem:
    message: str
    pointer: str

    def __str__(self) -> str:
        # The exact form Slack puts in response_metadata.messages.
        return f"[ERROR] {self.message} [json-pointer:{self.pointer}]"


class BlockKitError(Exception):
    """Blocks or a view broke a rule; ``problems`` point at the failing elements."""

    def __init__(self, problems: list[BlockKitProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems

    @property
    def messages(self) -> list[str]:
        return [str(p) for p in self.problems]


class Validator:
    """Walks a payload collecting every problem (Slack lists them all, not just the first)."""

    def __init__(self) -> None:
        self.problems: list[BlockKitProblem] = []

    def err(self, message: str, pointer: str) -> None:
        self.problems.append(BlockKitProblem(message, pointer))

    def obj(
        self,
        value: Any,
        ptr: str,
        fields: Mapping[str, Check],
        required: Iterable[str] = (),
    ) -> bool:
        """Check an object's ``fields``; any other key is refused, as Slack refuses unknown fields."""
        if not isinstance(value, dict):
            self.err("must be an object", ptr)
            return False
        for key in value:
            if key not in fields:
                self.err(f"invalid additional property: {key}", f"{ptr}/{key}")
        for key in required:
            if key not in value:
                self.err(f"missing required field: {key}", ptr)
        for key, sub in value.items():
            if key in fields:
                fields[key](self, sub, f"{ptr}/{key}")
        return True


def string(max_len: int | None = None, min_len: int = 0) -> Check:
    def check(v: Validator, value: Any, ptr: str) -> None:
        if not isinstance(value, str):
            v.err("must be a string", ptr)
        elif max_len is not None and len(value) > max_len:
            v.err(f"must be less than {max_len + 1} characters", ptr)
        elif len(value) < min_len:
            v.err(f"must be at least {min_len} characters", ptr)

    return check


def boolean(v: Validator, value: Any, ptr: str) -> None:
    if not isinstance(value, bool):
        v.err("must be a boolean", ptr)


def integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    def check(v: Validator, value: Any, ptr: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            v.err("must be an integer", ptr)
        elif minimum is not None and value < minimum:
            v.err(f"must be at least {minimum}", ptr)
        elif maximum is not None and value > maximum:
            v.err(f"must be at most {maximum}", ptr)

    return check


def one_of(*allowed: str) -> Check:
    def check(v: Validator, value: Any, ptr: str) -> None:
        if value not in allowed:
            v.err(f"must be one of: {', '.join(allowed)}", ptr)

    return check


def pattern(regex: str, what: str) -> Check:
    compiled = re.compile(regex)

    def check(v: Validator, value: Any, ptr: str) -> None:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            v.err(f"must be {what}", ptr)

    return check


def array_of(item: Check, *, max_items: int | None = None, min_items: int = 0) -> Check:
    def check(v: Validator, value: Any, ptr: str) -> None:
        if not isinstance(value, list):
            v.err("must be an array", ptr)
            return
        if max_items is not None and len(value) > max_items:
            v.err(f"no more than {max_items} items allowed", ptr)
        if len(value) < min_items:
            v.err(f"must contain at least {min_items} items", ptr)
        for i, sub in enumerate(value):
            item(v, sub, f"{ptr}/{i}")

    return check


def anything(v: Validator, value: Any, ptr: str) -> None:
    return None


def object_with(fields: Mapping[str, Check], required: Iterable[str] = ()) -> Check:
    """An object with exactly these known ``fields``, of which ``required`` must be present."""
    req = tuple(required)

    def check(v: Validator, value: Any, ptr: str) -> None:
        v.obj(value, ptr, fields, req)

    return check
