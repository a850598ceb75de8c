"""chat.*: postMessage, update, postEphemeral, delete, getPermalink."""

from __future__ import annotations

from slack_sandbox.errors import SlackError
from slack_sandbox.methods.common import attachments_arg, message_blocks, metadata_arg
from slack_sandbox.methods.registry import CallContext, api_method
from slack_sandbox.models import JSON, Channel, Ephemeral, Message
from slack_sandbox.serialize import message_json

_CONTENT_RAISES = {
    "invalid_blocks",
    "invalid_blocks_format",
    "markdown_text_conflict",
    "no_text",
    "too_many_attachments",
}


def _text(ctx: CallContext) -> str | None:
    text = ctx.args.get("text")
    markdown = ctx.args.get("markdown_text")
    if markdown and (text or ctx.args.get("blocks")):
        raise SlackError("markdown_text_conflict")
    value = markdown or text
    return None if value is None else str(value)


def _may_post(ctx: CallContext, ch: Channel) -> None:
    if ch.is_archived:
        raise SlackError("is_archived")
    if ctx.bot_id in ch.members:
        return
    if not ch.is_private and "chat:write.public" in ctx.token.scopes:
        return  # chat:write.public lets an app post in public channels it has not joined
    raise SlackError("not_in_channel")


def _thread_root(ctx: CallContext, ch: Channel) -> str | None:
    thread_ts = ctx.args.get("thread_ts")
    if not thread_ts:
        return None
    root = ctx.ws.thread_root(ch.id, str(thread_ts))
    if root is None:
        ctx.violation("unknown_thread_ts", f"thread_ts {thread_ts} is not a message in {ch.id}")
        return str(thread_ts)
    return root


def _truncate(ctx: CallContext, text: str) -> str:
    limit = ctx.config.max_text_length
    if len(text) > limit:
        ctx.warnings.append("message_truncated")
        return text[:limit]
    return text


@api_method(
    "chat.postMessage",
    raises=_CONTENT_RAISES
    | {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "as_user_not_supported",
        "invalid_metadata_format",
        "invalid_metadata_schema",
    },
)
def post_message(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    if ctx.bool_arg("as_user"):
        raise SlackError("as_user_not_supported")
    text = _text(ctx)
    blocks = message_blocks(ctx)
    atts = attachments_arg(ctx, code="invalid_form_data")
    if not text and not blocks and not atts:
        raise SlackError("no_text")
    _may_post(ctx, ch)
    meta = metadata_arg(ctx)
    ws = ctx.ws
    msg = ws.add_message(
        Message(
            ts=ws.next_ts(),
            channel=ch.id,
            user=ctx.bot_id,
            text=_truncate(ctx, text or ""),
            blocks=blocks or [],
            attachments=atts or [],
            thread_ts=_thread_root(ctx, ch),
            bot_id=ws.bot_user.bot_id,
            app_id=ws.app_id,
            metadata=meta,
            reply_broadcast=ctx.bool_arg("reply_broadcast") and bool(ctx.args.get("thread_ts")),
        )
    )
    return {"channel": ch.id, "ts": msg.ts, "message": message_json(ws, msg)}


@api_method(
    "chat.update",
    raises=_CONTENT_RAISES
    | {
        "channel_not_found",
        "message_not_found",
        "cant_update_message",
        "is_inactive",
        "msg_too_long",
        "invalid_attachments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
    },
)
def update(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    msg = ctx.ws.message(ch.id, ctx.str_arg("ts"))
    if msg is None:
        raise SlackError("message_not_found")
    if msg.user != ctx.bot_id or msg.subtype:
        raise SlackError("cant_update_message")
    if ch.is_archived:
        raise SlackError("is_inactive")
    text = _text(ctx)
    blocks = message_blocks(ctx)
    atts = attachments_arg(ctx, code="invalid_attachments")
    if text is None and blocks is None and atts is None:
        raise SlackError("no_text")
    if text is not None and len(text) > ctx.config.max_text_length:
        raise SlackError("msg_too_long")
    # Slack keeps the previous blocks/attachments when an update leaves them out.
    if text is not None:
        msg.text = text
    if blocks is not None:
        msg.blocks = blocks
    if atts is not None:
        msg.attachments = atts
    meta = metadata_arg(ctx)
    if meta is not None:
        msg.metadata = meta
    msg.edited = {"user": ctx.bot_id, "ts": ctx.ws.next_ts()}
    return {"channel": ch.id, "ts": msg.ts, "text": msg.text, "message": message_json(ctx.ws, msg)}


@api_method(
    "chat.postEphemeral",
    raises=_CONTENT_RAISES
    | {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "user_not_in_channel",
        "msg_too_long",
        "invalid_attachments",
    },
)
def post_ephemeral(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    text = _text(ctx)
    blocks = message_blocks(ctx)
    atts = attachments_arg(ctx, code="invalid_attachments")
    if not text and not blocks and not atts:
        raise SlackError("no_text")
    if text and len(text) > ctx.config.max_text_length:
        raise SlackError("msg_too_long")
    _may_post(ctx, ch)
    user = ctx.str_arg("user")
    if ctx.ws.user(user) is None or user not in ch.members:
        raise SlackError("user_not_in_channel")
    ws = ctx.ws
    eph = Ephemeral(
        ts=ws.next_ts(),
        channel=ch.id,
        user=user,
        text=text or "",
        blocks=blocks or [],
        thread_ts=_thread_root(ctx, ch),
    )
    ws.ephemerals.append(eph)
    return {"message_ts": eph.ts}


@api_method("chat.delete", raises={"channel_not_found", "message_not_found", "cant_delete_message"})
def delete(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    msg = ctx.ws.message(ch.id, ctx.str_arg("ts"))
    if msg is None:
        raise SlackError("message_not_found")
    if msg.user != ctx.bot_id:
        raise SlackError("cant_delete_message")
    msg.deleted = True
    return {"channel": ch.id, "ts": msg.ts}


@api_method("chat.getPermalink", raises={"channel_not_found", "message_not_found"})
def get_permalink(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    ts = ctx.str_arg("message_ts")
    if ctx.ws.message(ch.id, ts) is None:
        raise SlackError("message_not_found")
    link = f"https://{ctx.ws.team_domain}.slack.com/archives/{ch.id}/p{ts.replace('.', '')}"
    return {"channel": ch.id, "permalink": link}
