"""Helpers shared by method handlers: JSON-valued args, message content, pagination cursors, views."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from slack_sandbox.blockkit import BlockKitError, check_message_blocks, fill_ids
from slack_sandbox.errors import SlackError
from slack_sandbox.methods.registry import CallContext
from slack_sandbox.models import JSON


def json_arg(ctx: CallContext, name: str, *, want: type, code: str) -> Any:
    """Arg ``name`` as a parsed JSON value of type ``want`` (form bodies carry it as a JSON string)."""
    raw = ctx.args.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise SlackError(code, messages=[f"[ERROR] `{name}` is not valid JSON"]) from None
    if not isinstance(raw, want):
        raise SlackError(code, messages=[f"[ERROR] `{name}` must be a JSON {want.__name__}"])
    return raw


def message_blocks(ctx: CallContext) -> list[JSON] | None:
    """The ``blocks`` arg, parsed and checked: ``invalid_blocks_format`` / ``invalid_blocks``."""
    blocks: list[JSON] | None = json_arg(ctx, "blocks", want=list, code="invalid_blocks_format")
    if blocks is None:
        return None
    try:
        check_message_blocks(blocks)
    except BlockKitError as exc:
        ctx.violation("invalid_blocks", "; ".join(exc.messages))
        raise SlackError("invalid_blocks", messages=exc.messages) from None
    return fill_ids(copy.deepcopy(blocks), lambda: ctx.ws.new_id("b")[-5:])


def attachments_arg(ctx: CallContext, *, code: str) -> list[JSON] | None:
    atts: list[JSON] | None = json_arg(ctx, "attachments", want=list, code=code)
    if atts is not None and len(atts) > 100:
        raise SlackError("too_many_attachments")
    return atts


def metadata_arg(ctx: CallContext) -> JSON | None:
    meta: JSON | None = json_arg(ctx, "metadata", want=dict, code="invalid_metadata_format")
    if meta is not None and not ("event_type" in meta and "event_payload" in meta):
        raise SlackError("invalid_metadata_schema")
    return meta


def encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, num = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        if kind != "offset":
            raise ValueError(kind)
        return int(num)
    except ValueError:
        raise SlackError("invalid_cursor") from None


def page(ctx: CallContext, items: list[Any], *, default_limit: int, max_limit: int) -> tuple[list[Any], str]:
    """Slice ``items`` by the ``cursor``/``limit`` args; returns the page and the next cursor ('' at end)."""
    limit = ctx.args.get("limit", default_limit) or default_limit
    if not isinstance(limit, int) or limit < 1 or limit > max_limit:
        raise (
            SlackError("invalid_limit")
            if "invalid_limit" in ctx.spec.errors
            else SlackError("invalid_form_data")
        )
    start = decode_cursor(ctx.str_arg("cursor")) if ctx.args.get("cursor") else 0
    chunk = items[start : start + limit]
    nxt = encode_cursor(start + limit) if start + limit < len(items) else ""
    return chunk, nxt
