"""Rich text blocks (basic): sections, lists, quotes, preformatted, and their inline elements."""

from __future__ import annotations

from typing import Any

from slack_sandbox.blockkit.composition import URL
from slack_sandbox.blockkit.core import (
    Check,
    Validator,
    anything,
    array_of,
    boolean,
    integer,
    object_with,
    one_of,
    string,
)

_RT_STYLE = object_with({"bold": boolean, "italic": boolean, "strike": boolean, "code": boolean})
_RT_INLINE: dict[str, tuple[dict[str, Check], tuple[str, ...]]] = {
    "text": ({"text": string(), "style": _RT_STYLE}, ("text",)),
    "link": ({"url": URL, "text": string(), "style": _RT_STYLE, "unsafe": boolean}, ("url",)),
    "emoji": ({"name": string(), "unicode": string(), "skin_tone": integer(1, 6)}, ("name",)),
    "user": ({"user_id": string(), "style": _RT_STYLE}, ("user_id",)),
    "channel": ({"channel_id": string(), "style": _RT_STYLE}, ("channel_id",)),
    "usergroup": ({"usergroup_id": string(), "style": _RT_STYLE}, ("usergroup_id",)),
    "broadcast": ({"range": one_of("here", "channel", "everyone")}, ("range",)),
    "date": (
        {"timestamp": integer(0), "format": string(), "url": URL, "fallback": string()},
        ("timestamp", "format"),
    ),
    "color": ({"value": string()}, ("value",)),
}


def _rt_inline(v: Validator, value: Any, ptr: str) -> None:
    kind = value.get("type") if isinstance(value, dict) else None
    if not isinstance(kind, str) or kind not in _RT_INLINE:
        v.err(f"unsupported type: {kind}", f"{ptr}/type")
        return
    fields, required = _RT_INLINE[kind]
    v.obj(value, ptr, {"type": anything, **fields}, required)


_RT_SECTION = object_with(
    {"type": one_of("rich_text_section"), "elements": array_of(_rt_inline)}, ("elements",)
)
_RT_CONTAINERS: dict[str, Check] = {
    "rich_text_section": _RT_SECTION,
    "rich_text_preformatted": object_with(
        {"type": anything, "elements": array_of(_rt_inline), "border": integer(0, 1), "language": string()},
        ("elements",),
    ),
    "rich_text_quote": object_with(
        {"type": anything, "elements": array_of(_rt_inline), "border": integer(0, 1)}, ("elements",)
    ),
    "rich_text_list": object_with(
        {
            "type": anything,
            "style": one_of("bullet", "ordered"),
            "elements": array_of(_RT_SECTION),
            "indent": integer(0, 8),
            "offset": integer(0),
            "border": integer(0, 1),
        },
        ("style", "elements"),
    ),
}


def rich_text_container(v: Validator, value: Any, ptr: str) -> None:
    kind = value.get("type") if isinstance(value, dict) else None
    if not isinstance(kind, str) or kind not in _RT_CONTAINERS:
        v.err(f"unsupported type: {kind}", f"{ptr}/type")
        return
    _RT_CONTAINERS[kind](v, value, ptr)
