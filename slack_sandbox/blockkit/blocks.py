"""Blocks and surfaces: message block lists, modal and App Home views, and Slack's id filling."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_sandbox.blockkit.composition import ID, URL, plain_text, text_object
from slack_sandbox.blockkit.core import (
    BlockKitError,
    Check,
    Validator,
    anything,
    array_of,
    boolean,
    object_with,
    string,
)
from slack_sandbox.blockkit.elements import (
    ACCESSORY_ELEMENTS,
    ACTION_ELEMENTS,
    ELEMENTS,
    INPUT_ELEMENTS,
    context_element,
    element_of,
    slack_file,
)
from slack_sandbox.blockkit.richtext import rich_text_container

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
VIEW_MAX_BYTES = 250_000


def _section(v: Validator, value: Any, ptr: str) -> None:
    fields: dict[str, Check] = {
        "type": anything,
        "block_id": ID,
        "text": text_object(3000),
        "fields": array_of(text_object(2000), max_items=10, min_items=1),
        "accessory": element_of(ACCESSORY_ELEMENTS),
        "expand": boolean,
    }
    if v.obj(value, ptr, fields) and "text" not in value and "fields" not in value:
        v.err("must provide either text or fields", ptr)


BLOCKS: dict[str, Check] = {
    "section": _section,
    "header": object_with({"type": anything, "block_id": ID, "text": plain_text(150)}, ("text",)),
    "divider": object_with({"type": anything, "block_id": ID}),
    "context": object_with(
        {"type": anything, "block_id": ID, "elements": array_of(context_element, max_items=10, min_items=1)},
        ("elements",),
    ),
    "actions": object_with(
        {
            "type": anything,
            "block_id": ID,
            "elements": array_of(element_of(ACTION_ELEMENTS), max_items=25, min_items=1),
        },
        ("elements",),
    ),
    "input": object_with(
        {
            "type": anything,
            "block_id": ID,
            "label": plain_text(2000),
            "element": element_of(INPUT_ELEMENTS),
            "hint": plain_text(2000),
            "optional": boolean,
            "dispatch_action": boolean,
        },
        ("label", "element"),
    ),
    "image": object_with(
        {
            "type": anything,
            "block_id": ID,
            "image_url": URL,
            "slack_file": slack_file,
            "alt_text": string(2000),
            "title": plain_text(2000),
        },
        ("alt_text",),
    ),
    "rich_text": object_with(
        {"type": anything, "block_id": ID, "elements": array_of(rich_text_container)}, ("elements",)
    ),
}


def check_block(v: Validator, value: Any, ptr: str) -> None:
    if not isinstance(value, dict):
        v.err("must be an object", ptr)
        return
    kind = value.get("type")
    if kind not in BLOCKS:
        v.err(f"unsupported type: {kind}", f"{ptr}/type")
        return
    BLOCKS[kind](v, value, ptr)


def _unique_ids(v: Validator, blocks: list[Any], ptr: str) -> None:
    seen_blocks: set[str] = set()
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        bid = block.get("block_id")
        if isinstance(bid, str):
            if bid in seen_blocks:
                v.err(f"duplicate block_id: {bid}", f"{ptr}/{i}/block_id")
            seen_blocks.add(bid)
        seen_actions: set[str] = set()
        for j, el in enumerate(block.get("elements") or []) if block.get("type") == "actions" else []:
            aid = el.get("action_id") if isinstance(el, dict) else None
            if isinstance(aid, str):
                if aid in seen_actions:
                    v.err(f"duplicate action_id: {aid}", f"{ptr}/{i}/elements/{j}/action_id")
                seen_actions.add(aid)


def check_block_list(v: Validator, blocks: Any, ptr: str, max_blocks: int) -> None:
    if not isinstance(blocks, list):
        v.err("must be an array", ptr)
        return
    if len(blocks) > max_blocks:
        v.err(f"no more than {max_blocks} items allowed", ptr)
    for i, block in enumerate(blocks):
        check_block(v, block, f"{ptr}/{i}")
    _unique_ids(v, blocks, ptr)


def check_message_blocks(blocks: Any, pointer: str = "/blocks") -> None:
    """Raise :class:`BlockKitError` unless ``blocks`` is a valid message block list."""
    v = Validator()
    check_block_list(v, blocks, pointer, MESSAGE_BLOCKS_MAX)
    if v.problems:
        raise BlockKitError(v.problems)


_VIEW_COMMON: dict[str, Check] = {
    "type": anything,
    "private_metadata": string(3000),
    "callback_id": ID,
    "external_id": ID,
}
_MODAL_FIELDS: dict[str, Check] = {
    **_VIEW_COMMON,
    "title": plain_text(24),
    "submit": plain_text(24),
    "close": plain_text(24),
    "clear_on_close": boolean,
    "notify_on_close": boolean,
    "submit_disabled": boolean,
}


def view_size(view: Any) -> int:
    return len(json.dumps(view, separators=(",", ":"), ensure_ascii=False).encode())


def check_view(
    view: Any, *, allowed_types: Iterable[str] = ("modal", "home"), pointer: str = "/view"
) -> None:
    """Raise :class:`BlockKitError` unless ``view`` is a valid modal or App Home view."""
    v = Validator()
    allowed = tuple(allowed_types)
    if not isinstance(view, dict):
        v.err("must be an object", pointer)
        raise BlockKitError(v.problems)
    kind = view.get("type")
    if kind not in allowed:
        v.err(f"must be one of: {', '.join(allowed)}", f"{pointer}/type")
        raise BlockKitError(v.problems)
    fields = dict(_MODAL_FIELDS if kind == "modal" else _VIEW_COMMON)
    fields["blocks"] = anything  # checked below with the view's own limit
    v.obj(view, pointer, fields, ("title", "blocks") if kind == "modal" else ("blocks",))
    blocks = view.get("blocks")
    check_block_list(v, blocks, f"{pointer}/blocks", VIEW_BLOCKS_MAX)
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if kind == "modal" and has_input and "submit" not in view:
        v.err("must provide submit when the view has input blocks", pointer)
    if v.problems:
        raise BlockKitError(v.problems)


_INTERACTIVE_CONTAINERS = {"actions": "elements", "section": "accessory", "input": "element"}


def fill_ids(blocks: list[Any], new_id: Callable[[], str]) -> list[Any]:
    """Give every block a block_id and every interactive element an action_id, as Slack does on save."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", new_id())
        key = _INTERACTIVE_CONTAINERS.get(str(block.get("type")))
        if key is None:
            continue
        found = block.get(key)
        elements = found if isinstance(found, list) else [found]
        for el in elements:
            if isinstance(el, dict) and el.get("type") in ELEMENTS and el.get("type") != "image":
                el.setdefault("action_id", new_id())
    return blocks
