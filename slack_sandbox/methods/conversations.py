"""conversations.*: create, info, list, invite, join, open, members, history, replies, topic, archive."""

from __future__ import annotations

import re

from slack_sandbox.errors import SlackError
from slack_sandbox.methods.common import page
from slack_sandbox.methods.registry import CallContext, api_method
from slack_sandbox.models import JSON, Channel, Message
from slack_sandbox.serialize import conversation_json, message_json
from slack_sandbox.workspace import Workspace

_NAME_CHARS = re.compile(r"[a-z0-9_\-]+")
_TS = re.compile(r"\d+(\.\d+)?")


def check_channel_name(name: str, max_len: int = 80) -> None:
    """Slack's channel-name rules: lowercase letters, digits, '-' and '_', at most 80 characters."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > max_len:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_CHARS.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if set(name) <= {"-", "_"}:
        raise SlackError("invalid_name_punctuation")


def system_message(ws: Workspace, ch: Channel, user: str, subtype: str, text: str) -> Message:
    return ws.add_message(
        Message(ts=ws.next_ts(), channel=ch.id, user=user, text=text, subtype=subtype, source="system")
    )


def join_channel(ctx: CallContext, ch: Channel, user_id: str, inviter: str | None = None) -> None:
    """Add a member the way Slack shows it: a channel_join message and a member_joined_channel event."""
    ch.members.append(user_id)
    user = ctx.ws.user(user_id)
    system_message(ctx.ws, ch, user_id, "channel_join", f"<@{user_id}> has joined the channel")
    event: JSON = {
        "type": "member_joined_channel",
        "user": user_id,
        "channel": ch.id,
        "channel_type": "G" if ch.is_private else "C",
        "team": ctx.ws.team_id,
        "event_ts": ctx.ws.next_ts(),
    }
    if inviter:
        event["inviter"] = inviter
    if user is not None:
        ctx.emit(event)


@api_method(
    "conversations.create",
    raises={
        "invalid_name_required",
        "invalid_name_maxlength",
        "invalid_name_specials",
        "invalid_name_punctuation",
        "name_taken",
    },
)
def create(ctx: CallContext) -> JSON:
    ws = ctx.ws
    name = ctx.str_arg("name")
    check_channel_name(name)
    if ws.channel_named(name) is not None:  # archived channels keep their names
        raise SlackError("name_taken")
    ch = Channel(
        id=ws.new_id("C"),
        name=name,
        creator=ctx.bot_id,
        created=ws.now_int(),
        members=[ctx.bot_id],
        is_private=ctx.bool_arg("is_private"),
    )
    ctx.check_conversation_scope(ch)
    ws.channels[ch.id] = ch
    return {"channel": conversation_json(ws, ch)}


@api_method("conversations.info", raises={"channel_not_found"})
def info(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    return {"channel": conversation_json(ctx.ws, ch, include_num_members=ctx.bool_arg("include_num_members"))}


@api_method("conversations.list", raises={"invalid_cursor", "invalid_limit", "invalid_types"})
def list_(ctx: CallContext) -> JSON:
    kinds = [t.strip() for t in ctx.str_arg("types", "public_channel").split(",") if t.strip()]
    if any(k not in {"public_channel", "private_channel", "im", "mpim"} for k in kinds):
        raise SlackError("invalid_types")
    bot = ctx.bot_id
    chans = []
    for ch in ctx.ws.channels.values():
        kind = "im" if ch.is_im else "private_channel" if ch.is_private else "public_channel"
        if kind not in kinds or (ch.is_private and bot not in ch.members):
            continue
        if ch.is_archived and ctx.bool_arg("exclude_archived"):
            continue
        chans.append(ch)
    chunk, nxt = page(ctx, chans, default_limit=100, max_limit=1000)
    return {
        "channels": [conversation_json(ctx.ws, c) for c in chunk],
        "response_metadata": {"next_cursor": nxt},
    }


@api_method(
    "conversations.invite",
    raises={
        "channel_not_found",
        "method_not_supported_for_channel_type",
        "is_archived",
        "not_in_channel",
        "no_user",
        "cant_invite",
        "cant_invite_self",
        "user_not_found",
        "already_in_channel",
    },
)
def invite(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    if ch.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if ch.is_archived:
        raise SlackError("is_archived")
    ctx.require_member(ch)
    ids = [u.strip() for u in ctx.str_arg("users").split(",") if u.strip()]
    if not ids:
        raise SlackError("no_user")
    if len(ids) > ctx.config.max_invite_users:
        raise SlackError(
            "cant_invite", messages=[f"[ERROR] at most {ctx.config.max_invite_users} users per call"]
        )
    errors: list[JSON] = []
    valid: list[str] = []
    for uid in ids:
        user = ctx.ws.user(uid)
        code = None
        if uid == ctx.bot_id:
            code = "cant_invite_self"
        elif user is None or user.deleted:
            code = "user_not_found"
        elif uid in ch.members or uid in valid:
            code = "already_in_channel"
        if code:
            errors.append({"user": uid, "ok": False, "error": code})
        else:
            valid.append(uid)
    force = ctx.bool_arg("force")
    if errors and (not force or not valid):
        # Without force Slack stops at the first bad user; with force it skips them and says which.
        code = str(errors[0]["error"])
        raise SlackError(code, errors=errors) if force else SlackError(code)
    for uid in valid:
        join_channel(ctx, ch, uid, inviter=ctx.bot_id)
    out: JSON = {"channel": conversation_json(ctx.ws, ch)}
    if errors:
        out["errors"] = errors
    return out


@api_method(
    "conversations.join", raises={"channel_not_found", "method_not_supported_for_channel_type", "is_archived"}
)
def join(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    if ch.is_private or ch.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if ch.is_archived:
        raise SlackError("is_archived")
    out: JSON = {}
    if ctx.bot_id in ch.members:
        out["warning"] = "already_in_channel"
        ctx.warnings.append("already_in_channel")
    else:
        join_channel(ctx, ch, ctx.bot_id)
    out["channel"] = conversation_json(ctx.ws, ch)
    return out


@api_method("conversations.open", raises={"users_list_not_supplied", "user_not_found", "channel_not_found"})
def open_(ctx: CallContext) -> JSON:
    if ctx.args.get("channel"):
        ch = ctx.channel()
        return {"channel": conversation_json(ctx.ws, ch)}
    ids = [u.strip() for u in ctx.str_arg("users").split(",") if u.strip()]
    if not ids:
        raise SlackError("users_list_not_supplied")
    if len(ids) != 1 or ctx.ws.user(ids[0]) is None:
        # Group DMs (mpim) are not modelled; Slack would open one for several users.
        raise SlackError("user_not_found")
    ch = ctx.ws.dm_channel(ids[0])
    return (
        {"channel": {"id": ch.id}}
        if not ctx.bool_arg("return_im")
        else {"channel": conversation_json(ctx.ws, ch)}
    )


@api_method("conversations.members", raises={"channel_not_found", "invalid_cursor", "invalid_limit"})
def members(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    chunk, nxt = page(ctx, list(ch.members), default_limit=100, max_limit=1000)
    return {"members": chunk, "response_metadata": {"next_cursor": nxt}}


def _ts_bound(ctx: CallContext, name: str, code: str) -> float | None:
    raw = ctx.args.get(name)
    if raw in (None, ""):
        return None
    if not _TS.fullmatch(str(raw)):
        raise SlackError(code)
    return float(raw)


def _in_window(ctx: CallContext, ts: str) -> bool:
    latest = _ts_bound(ctx, "latest", "invalid_ts_latest")
    oldest = _ts_bound(ctx, "oldest", "invalid_ts_oldest")
    inclusive = ctx.bool_arg("inclusive")
    value = float(ts)
    if latest is not None and (value > latest or (value == latest and not inclusive)):
        return False
    return not (oldest is not None and (value < oldest or (value == oldest and not inclusive)))


@api_method(
    "conversations.history",
    raises={
        "channel_not_found",
        "not_in_channel",
        "invalid_cursor",
        "invalid_ts_latest",
        "invalid_ts_oldest",
    },
)
def history(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    ctx.require_member(ch)
    msgs = [
        m
        for m in reversed(ctx.ws.messages.get(ch.id, []))
        if not m.deleted and (not m.is_reply or m.reply_broadcast) and _in_window(ctx, m.ts)
    ]
    chunk, nxt = page(ctx, msgs, default_limit=100, max_limit=999)
    out: JSON = {
        "messages": [message_json(ctx.ws, m) for m in chunk],
        "has_more": bool(nxt),
        "pin_count": sum(1 for m in ctx.ws.messages.get(ch.id, []) if m.pinned),
        "channel_actions_ts": None,
        "channel_actions_count": 0,
    }
    if nxt:
        out["response_metadata"] = {"next_cursor": nxt}
    return out


@api_method(
    "conversations.replies",
    raises={
        "channel_not_found",
        "thread_not_found",
        "invalid_cursor",
        "invalid_ts_latest",
        "invalid_ts_oldest",
    },
)
def replies(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    parent = ctx.ws.message(ch.id, ctx.str_arg("ts"))
    if parent is None:
        raise SlackError("thread_not_found")
    root = parent.thread_ts or parent.ts
    thread = [
        m
        for m in ctx.ws.messages.get(ch.id, [])
        if not m.deleted and (m.ts == root or m.thread_ts == root) and _in_window(ctx, m.ts)
    ]
    chunk, nxt = page(ctx, thread, default_limit=1000, max_limit=1000)
    out: JSON = {"messages": [message_json(ctx.ws, m) for m in chunk], "has_more": bool(nxt)}
    if nxt:
        out["response_metadata"] = {"next_cursor": nxt}
    return out


def _set_text(ctx: CallContext, field_name: str, subtype: str, label: str) -> JSON:
    ch = ctx.channel()
    if ch.is_archived:
        raise SlackError("is_archived")
    ctx.require_member(ch)
    value = ctx.str_arg(field_name)
    if len(value) > ctx.config.max_topic_length:
        raise SlackError("too_long")
    target = ch.topic if field_name == "topic" else ch.purpose
    target.value, target.creator, target.last_set = value, ctx.bot_id, ctx.ws.now_int()
    system_message(ctx.ws, ch, ctx.bot_id, subtype, f"set the channel {label}: {value}")
    return {"channel": conversation_json(ctx.ws, ch)}


_TEXT_RAISES = {"channel_not_found", "is_archived", "not_in_channel", "too_long"}


@api_method("conversations.setTopic", raises=_TEXT_RAISES)
def set_topic(ctx: CallContext) -> JSON:
    return _set_text(ctx, "topic", "channel_topic", "topic")


@api_method("conversations.setPurpose", raises=_TEXT_RAISES)
def set_purpose(ctx: CallContext) -> JSON:
    return _set_text(ctx, "purpose", "channel_purpose", "description")


@api_method(
    "conversations.archive",
    raises={
        "channel_not_found",
        "method_not_supported_for_channel_type",
        "cant_archive_general",
        "already_archived",
        "not_in_channel",
    },
)
def archive(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    if ch.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if ch.is_general:
        raise SlackError("cant_archive_general")
    if ch.is_archived:
        raise SlackError("already_archived")
    ctx.require_member(ch)
    ch.is_archived = True
    system_message(ctx.ws, ch, ctx.bot_id, "channel_archive", "archived the channel")
    return {}
