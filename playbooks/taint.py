"""Where each part of a rendered string came from: values of the alert and the incident are marked.

While a step is rendered, a value from `{labels.KEY}` or `{asset.KIND}` (directly, or through a param whose
default uses one) is wrapped in private-use characters naming its reference. The guards read the marks to tell
which parts of a table name, a column or a URL the alert chose; the marks are removed before the step is
validated and run. A value that carries such characters itself has them stripped first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

OPEN, SEP, CLOSE = "\ue000", "\ue001", "\ue002"
_MARKS = re.compile(f"[{OPEN}{SEP}{CLOSE}]")
_MARKED = re.compile(f"{OPEN}([^{OPEN}{SEP}{CLOSE}]*){SEP}([^{OPEN}{SEP}{CLOSE}]*){CLOSE}")

LABEL_PREFIX = "{labels."
ASSET_PREFIX = "{asset."


def mark(source: str, value: str) -> str:
    """`value`, from the reference `source` (as written: `{labels.table}`), marked as chosen by the alert."""
    return f"{OPEN}{source}{SEP}{_MARKS.sub('', value)}{CLOSE}"


def clean(text: str) -> str:
    return _MARKS.sub("", _MARKED.sub(lambda m: m.group(2), text))


def clean_data(value: Any) -> Any:
    """Marks removed from every string of a rendered step's field values (SecretStr values included)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, SecretStr):
        return SecretStr(clean(value.get_secret_value()))
    if isinstance(value, dict):
        return {k: clean_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_data(v) for v in value]
    return value


@dataclass(frozen=True)
class Segment:
    text: str
    source: str | None  # the reference that chose it; None: the playbook, the environment or a param


def segments(text: str) -> list[Segment]:
    out: list[Segment] = []
    at = 0
    for m in _MARKED.finditer(text):
        if m.start() > at:
            out.append(Segment(_MARKS.sub("", text[at : m.start()]), None))
        out.append(Segment(m.group(2), m.group(1)))
        at = m.end()
    if at < len(text):
        out.append(Segment(_MARKS.sub("", text[at:]), None))
    return [s for s in out if s.text or s.source]


def sources(text: str) -> list[str]:
    """The references that chose a part of `text`, in order, each once."""
    return list(dict.fromkeys(s.source for s in segments(text) if s.source))


def from_labels(refs: list[str]) -> list[str]:
    return [r for r in refs if r.startswith(LABEL_PREFIX)]
