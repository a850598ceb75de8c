"""Coerce and check Web API arguments against a method's documented args, and pick Slack's error code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sandbox.reference import MethodSpec

# Documented as strings but sent as structures in JSON bodies (slack_sdk does): accept both.
STRUCTURED_ARGS = frozenset({"blocks", "attachments", "metadata", "unfurled_attachments", "view", "files"})
# Accepted on every method: slack_sdk adds ``team_id`` as a default param to each call (Bolt does so per
# request), and Slack honours it for org-wide apps even where a method's page does not list it.
UNIVERSAL_ARGS = frozenset({"token", "team_id"})

# Slack answers a missing or malformed argument with a code specific to it when the method documents one.
_MISSING_CODES: dict[str, tuple[str, ...]] = {
    "channel": ("channel_not_found",),
    "channel_id": ("channel_not_found", "invalid_channel"),
    "text": ("no_text",),
    "users": ("no_user",),
    "user": ("user_not_found",),
    "name": ("invalid_name_required", "no_channel", "invalid_name"),
    "ts": ("message_not_found",),
    "timestamp": ("no_item_specified", "bad_timestamp"),
    "email": ("users_not_found",),
    "usergroup": ("no_such_subteam",),
    "trigger_id": ("invalid_trigger_id",),
    "files": ("file_not_found",),
    "type": ("invalid_bookmark_type",),
}
_TYPE_CODES: dict[str, tuple[str, ...]] = {
    "limit": ("invalid_limit",),
    "cursor": ("invalid_cursor",),
    "latest": ("invalid_ts_latest",),
    "oldest": ("invalid_ts_oldest",),
    "timestamp": ("bad_timestamp",),
    "blocks": ("invalid_blocks_format",),
    "channel": ("channel_not_found",),
    "channel_id": ("channel_not_found", "invalid_channel"),
    "user": ("user_not_found",),
    "users": ("user_not_found",),
    "name": ("invalid_name",),
    "metadata": ("invalid_metadata_format",),
    "attachments": ("invalid_attachments",),
    "link": ("invalid_link",),
    "ts": ("message_not_found",),
    "email": ("users_not_found",),
    "usergroup": ("no_such_subteam",),
    "trigger_id": ("invalid_trigger_id",),
    "files": ("file_not_found",),
}
FALLBACK_CODE = "invalid_form_data"  # common: "form data ... missing or syntactically invalid"

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


@dataclass(frozen=True)
class ArgProblem:
    arg: str
    kind: str  # "missing" | "type"
    detail: str
    value: Any = None


@dataclass
class CheckedArgs:
    values: dict[str, Any]
    unknown: list[str] = field(default_factory=list)
    problems: list[ArgProblem] = field(default_factory=list)


class _Mismatch(Exception):
    pass


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Mismatch("boolean")


def _to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _Mismatch("integer")


def _to_number(value: Any) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            num = float(value.strip())
        except ValueError:
            raise _Mismatch("number") from None
        return int(num) if num.is_integer() else num
    raise _Mismatch("number")


def _to_array(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise _Mismatch("array") from None
            if isinstance(parsed, list):
                return parsed
            raise _Mismatch("array")
        return [part.strip() for part in text.split(",") if part.strip()]
    raise _Mismatch("array")


def _to_object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise _Mismatch("object") from None
        if isinstance(parsed, dict):
            return parsed
    raise _Mismatch("object")


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a JSON number for an id-like string: Slack's backend reads it as text
    raise _Mismatch("string")


_COERCERS: dict[str, Any] = {
    "boolean": _to_bool,
    "integer": _to_int,
    "number": _to_number,
    "array": _to_array,
    "object": _to_object,
    "string": _to_string,
}
_NATIVE: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "object": (dict,),
    "string": (str,),
}


def _coerce(name: str, kinds: frozenset[str], value: Any) -> Any:
    if "any" in kinds:
        return value
    if name in STRUCTURED_ARGS and isinstance(value, (list, dict)):
        return value
    for kind in kinds:  # a value already of an accepted JSON type is kept as is
        native = _NATIVE.get(kind)
        if native and isinstance(value, native) and not (kind != "boolean" and isinstance(value, bool)):
            return value
    for kind in ("boolean", "integer", "number", "array", "object", "string"):
        if kind in kinds:
            try:
                return _COERCERS[kind](value)
            except _Mismatch:
                continue
    raise _Mismatch("/".join(sorted(kinds)))


def check_args(spec: MethodSpec, raw: Mapping[str, Any]) -> CheckedArgs:
    """Coerce ``raw`` (form strings or JSON values) to the documented kinds; report unknown and bad args."""
    out = CheckedArgs(values={})
    for name, value in raw.items():
        if name == "token":
            continue
        arg = spec.args.get(name)
        if arg is None and name in UNIVERSAL_ARGS:
            out.values[name] = value
            continue
        if arg is None:
            out.unknown.append(name)
            out.values[name] = value
            continue
        if value is None:
            continue  # JSON null means "not given"
        try:
            out.values[name] = _coerce(name, arg.kinds, value)
        except _Mismatch as exc:
            out.problems.append(ArgProblem(name, "type", f"`{name}` must be {exc}", value))
    for name in spec.required_args:
        absent = name not in out.values or out.values[name] in ("", [], None)
        if absent and not any(p.arg == name for p in out.problems):
            out.problems.append(ArgProblem(name, "missing", f"`{name}` is required"))
    return out


def error_code_for(spec: MethodSpec, problem: ArgProblem) -> str:
    """The documented code Slack uses for ``problem`` on this method, else a common one."""
    table = _MISSING_CODES if problem.kind == "missing" else _TYPE_CODES
    generic = (
        ("missing_argument", "invalid_arguments") if problem.kind == "missing" else ("invalid_arguments",)
    )
    candidates: tuple[str, ...] = (*table.get(problem.arg, ()), *generic)
    for code in candidates:
        if code in spec.errors:
            return code
    if isinstance(problem.value, list):
        return "invalid_array_arg"
    return FALLBACK_CODE


def possible_arg_codes(spec: MethodSpec) -> set[str]:
    """Every code :func:`error_code_for` can give for this method (for the documented-errors test)."""
    codes = {FALLBACK_CODE, "invalid_array_arg"}
    for name in spec.args:
        for kind in ("missing", "type"):
            codes.add(error_code_for(spec, ArgProblem(name, kind, "")))
    return codes
