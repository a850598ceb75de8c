"""Durations in playbooks: `90`, `"90s"`, `"15m"`, `"6h"`, `"7d"` in, seconds out, and back to words."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_SECONDS_PER = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: object) -> object:
    """Seconds from a number or a string with a unit; anything else is left for pydantic to reject."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string such as 90s, 15m, 6h, 7d")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration: use seconds or a number with ms, s, m, h, d or w")
        return float(match.group(1)) * _SECONDS_PER[match.group(2) or "s"]
    return value


def format_duration(seconds: float) -> str:
    """A short human reading: `250 ms`, `42 s`, `17 min`, `5.5 h`, `8.7 d`."""
    s = abs(seconds)
    if s < 1:
        text = f"{s * 1000:.0f} ms"
    elif s < 60:
        text = f"{s:.1f} s" if s < 10 else f"{s:.0f} s"
    elif s < 3600:
        text = f"{s / 60:.0f} min"
    elif s < 2 * 86400:
        text = f"{s / 3600:.1f} h".replace(".0 h", " h")
    else:
        text = f"{s / 86400:.1f} d".replace(".0 d", " d")
    return f"-{text}" if seconds < 0 else text
