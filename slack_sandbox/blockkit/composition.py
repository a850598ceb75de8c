"""Composition objects: text, option, option group, confirm dialog, conversation filter."""

from __future__ import annotations

from typing import Any

from slack_sandbox.blockkit.core import Check, Validator, anything, array_of, boolean, one_of, string


def text_object(max_len: int, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> Check:
    def check(v: Validator, value: Any, ptr: str) -> None:
        if not isinstance(value, dict):
            v.err("must be an object", ptr)
            return
        kind = value.get("type")
        if kind not in kinds:
            v.err(f"must be a text object of type {' or '.join(kinds)}", f"{ptr}/type")
            return
        extra: dict[str, Check] = {"emoji": boolean} if kind == "plain_text" else {"verbatim": boolean}
        v.obj(value, ptr, {"type": anything, "text": string(max_len, 1), **extra}, ("text",))

    return check


ID = string(255)
URL = string(3000)
STYLE = one_of("primary", "danger")


def plain_text(max_len: int) -> Check:
    return text_object(max_len, ("plain_text",))


def confirm_dialog(v: Validator, value: Any, ptr: str) -> None:
    v.obj(
        value,
        ptr,
        {
            "title": plain_text(100),
            "text": text_object(300),
            "confirm": plain_text(30),
            "deny": plain_text(30),
            "style": STYLE,
        },
        ("title", "text", "confirm", "deny"),
    )


def option(text_kinds: tuple[str, ...] = ("plain_text",), *, with_url: bool = False) -> Check:
    fields: dict[str, Check] = {
        "text": text_object(75, text_kinds),
        "value": string(150),
        "description": text_object(75, text_kinds),
    }
    if with_url:
        fields["url"] = URL

    def check(v: Validator, value: Any, ptr: str) -> None:
        v.obj(value, ptr, fields, ("text", "value"))

    return check


PLAIN_OPTION = option()
RICH_OPTION = option(("plain_text", "mrkdwn"))


def option_group(v: Validator, value: Any, ptr: str) -> None:
    v.obj(
        value,
        ptr,
        {"label": plain_text(75), "options": array_of(PLAIN_OPTION, max_items=100)},
        ("label", "options"),
    )


def conversation_filter(v: Validator, value: Any, ptr: str) -> None:
    v.obj(
        value,
        ptr,
        {
            "include": array_of(one_of("im", "mpim", "private", "public"), min_items=1),
            "exclude_external_shared_channels": boolean,
            "exclude_bot_users": boolean,
        },
    )
