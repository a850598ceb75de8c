"""Slack's per-method reference data (verb, scopes, tier, args, errors), shipped as this package's data."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ENV_VAR = "HANDOFF_SLACK_REFERENCE"
# The data ships inside the package (see reference_data/NOTICE.md); ENV_VAR may point at a newer copy.
PACKAGED = Path(__file__).resolve().parent / "reference_data"

# Schema names in the reference that describe JSON objects (views); every other named schema is an id string.
_OBJECT_SCHEMAS = frozenset(
    {"view", "modal", "publishable-view", "workflow-step", "app-notification-subscription-configuration"}
)


# The README's transport rules say a wrong token gives ``invalid_auth`` on any method and list it among
# the common errors, but ``_common_errors.json`` lacks it (only 117 of 323 methods document it). This is
# the one code the stand-in adds to the common set; nothing else is invented.
README_COMMON_ADDITIONS = frozenset({"invalid_auth"})


class ReferenceNotFoundError(RuntimeError):
    """The Slack reference folder (packaged, or named by the override variable) is missing or incomplete."""


@dataclass(frozen=True)
class ArgSpec:
    """One documented argument: its name, the JSON kinds it accepts and whether it is required."""

    name: str
    kinds: frozenset[str]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    """What the reference documents about one Web API method."""

    name: str
    http_method: str
    json_input_supported: bool
    bot_scopes: tuple[str, ...]
    no_scope_required: bool
    tier: str | None
    args: Mapping[str, ArgSpec]
    errors: frozenset[str]

    @property
    def required_args(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args.values() if a.required and a.name != "token")


@dataclass(frozen=True)
class Reference:
    """All method specs plus the common errors any method may return."""

    root: Path
    methods: Mapping[str, MethodSpec]
    common_errors: frozenset[str]

    def method(self, name: str) -> MethodSpec | None:
        return self.methods.get(name)

    def allowed_errors(self, name: str) -> frozenset[str]:
        spec = self.methods.get(name)
        own = spec.errors if spec else frozenset()
        return own | self.common_errors

    def payload_shape(self, name: str) -> dict[str, Any]:
        """The blanked example of an inbound payload, e.g. ``payload_shape("SlashCommandPayload")``."""
        data: dict[str, Any] = json.loads((self.root / "payloads" / f"{name}.json").read_text())
        return data


def find_reference_dir() -> Path:
    """The folder holding ``methods/``: ``$HANDOFF_SLACK_REFERENCE`` when set, else the packaged copy."""
    env = os.environ.get(ENV_VAR)
    root = PACKAGED
    if env:
        root = Path(env).expanduser()
        root = root.parent if root.name == "methods" else root
    if not (root / "methods" / "_common_errors.json").is_file():
        where = f"${ENV_VAR}={env!r}" if env else "the packaged copy (a broken install? reinstall handoff)"
        raise ReferenceNotFoundError(
            f"Slack reference data not found: {root / 'methods' / '_common_errors.json'} is missing ({where})"
        )
    return root


def _kinds(prop: Mapping[str, Any]) -> frozenset[str]:
    if "type" in prop:
        t = prop["type"]
        return frozenset(t if isinstance(t, list) else [t])
    for key in ("anyOf", "oneOf"):
        if key in prop:
            out: set[str] = set()
            for sub in prop[key]:
                out |= _kinds(sub)
            return frozenset(out)
    if "allOf" in prop:
        for sub in prop["allOf"]:
            kinds = _kinds(sub)
            if kinds != {"any"}:
                return kinds
    if "schema" in prop:
        return frozenset({"object"} if prop["schema"] in _OBJECT_SCHEMAS else {"string"})
    return frozenset({"any"})


def _parse_method(name: str, data: Mapping[str, Any]) -> MethodSpec:
    args_schema = data.get("args") or {}
    required = set(args_schema.get("required") or [])
    props: Mapping[str, Any] = args_schema.get("properties") or {}
    args = {k: ArgSpec(k, _kinds(v), k in required) for k, v in props.items()}
    scope = data.get("scope")
    scope = scope if isinstance(scope, dict) else {}  # a few entries say "none"
    return MethodSpec(
        name=name,
        http_method=str(data.get("http_method", "POST")).upper(),
        json_input_supported=bool(data.get("json_input_supported")),
        bot_scopes=tuple(scope.get("bot") or ()),
        no_scope_required=bool(data.get("no_scope_required")),
        tier=data.get("rate_limits"),
        args=args,
        errors=frozenset((data.get("errors") or {}).keys()),
    )


@lru_cache(maxsize=4)
def _load(root: Path) -> Reference:
    methods_dir = root / "methods"
    common = json.loads((methods_dir / "_common_errors.json").read_text())["errors"]
    methods: dict[str, MethodSpec] = {}
    for path in sorted(methods_dir.glob("*.json")):
        name = path.stem
        if name.startswith("_") or name == "methods":  # the index file and the common errors
            continue
        methods[name] = _parse_method(name, json.loads(path.read_text()))
    return Reference(root=root, methods=methods, common_errors=frozenset(common) | README_COMMON_ADDITIONS)


def load_reference(root: Path | None = None) -> Reference:
    """Load (and cache) the reference; ``root`` defaults to :func:`find_reference_dir`."""
    return _load((root or find_reference_dir()).resolve())
