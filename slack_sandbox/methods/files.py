"""files.getUploadURLExternal and files.completeUploadExternal (the upload URL itself lives in hooks.py)."""

from __future__ import annotations

from slack_sandbox.blockkit import BlockKitError, check_message_blocks
from slack_sandbox.errors import SlackError
from slack_sandbox.methods.common import json_arg
from slack_sandbox.methods.registry import CallContext, api_method
from slack_sandbox.models import JSON, Message, UploadedFile
from slack_sandbox.serialize import file_json


@api_method("files.getUploadURLExternal", raises={"missing_argument", "alt_txt_too_large"})
def get_upload_url(ctx: CallContext) -> JSON:
    length = ctx.args.get("length")
    if not isinstance(length, int) or length < 1:
        raise SlackError("missing_argument", messages=["[ERROR] `length` must be a positive integer"])
    alt = ctx.args.get("alt_txt")
    if alt and len(str(alt)) > 1000:
        raise SlackError("alt_txt_too_large")
    ws = ctx.ws
    f = UploadedFile(
        id=ws.new_id("F"),
        filename=ctx.str_arg("filename"),
        length=length,
        user=ctx.bot_id,
        created=ws.now_int(),
        alt_txt=str(alt) if alt else None,
        snippet_type=ctx.args.get("snippet_type"),
    )
    ws.files[f.id] = f
    return {"upload_url": f"{ctx.base_url.rstrip('/')}/upload/v1/{f.id}", "file_id": f.id}


@api_method(
    "files.completeUploadExternal",
    raises={"file_not_found", "channel_not_found", "not_in_channel", "invalid_blocks", "invalid_channel"},
)
def complete_upload(ctx: CallContext) -> JSON:
    items = json_arg(ctx, "files", want=list, code="file_not_found")
    if not items:
        raise SlackError("file_not_found")
    ws = ctx.ws
    files: list[UploadedFile] = []
    for item in items:
        f = ws.files.get(str(item.get("id"))) if isinstance(item, dict) else None
        if f is None or f.content is None:  # never uploaded to its URL
            raise SlackError("file_not_found")
        if isinstance(item, dict) and item.get("title"):
            f.title = str(item["title"])
        files.append(f)
    targets = [c.strip() for c in ctx.str_arg("channels").split(",") if c.strip()]
    if ctx.args.get("channel_id"):
        targets.insert(0, ctx.str_arg("channel_id"))
    blocks = json_arg(ctx, "blocks", want=list, code="invalid_blocks")
    if blocks is not None:
        try:
            check_message_blocks(blocks)
        except BlockKitError as exc:
            raise SlackError("invalid_blocks", messages=exc.messages) from None
    for target in targets:
        ch = ws.channel(target)
        if ch is None or (ch.is_private and ctx.bot_id not in ch.members):
            raise SlackError("channel_not_found")
        ctx.check_conversation_scope(ch)
        ctx.require_member(ch)
    for f in files:
        f.completed = True
        f.channels = list(targets)
    for target in targets:
        ws.add_message(
            Message(
                ts=ws.next_ts(),
                channel=target,
                user=ctx.bot_id,
                text=ctx.str_arg("initial_comment"),
                blocks=blocks or [],
                files=[file_json(ws, f, ctx.base_url) for f in files],
                thread_ts=ctx.args.get("thread_ts") or None,
                bot_id=ws.bot_user.bot_id,
                app_id=ws.app_id,
            )
        )
    return {"files": [{"id": f.id, "title": f.title or f.filename} for f in files]}
