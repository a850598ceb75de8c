"""Things attached to messages and channels: pins.add, reactions.add, bookmarks.add."""

from __future__ import annotations

import re

from slack_sandbox.errors import SlackError
from slack_sandbox.methods.registry import CallContext, api_method
from slack_sandbox.models import JSON, Bookmark, Message, Reaction
from slack_sandbox.serialize import bookmark_json

_EMOJI = re.compile(r"[a-z0-9_+'\-]+(::skin-tone-[2-6])?")
_TS = re.compile(r"\d+\.\d+")


def _message(ctx: CallContext, channel_id: str) -> Message:
    ts = ctx.str_arg("timestamp")
    if not ts:
        raise SlackError("no_item_specified")
    if not _TS.fullmatch(ts):
        raise SlackError("bad_timestamp")
    msg = ctx.ws.message(channel_id, ts)
    if msg is None:
        raise SlackError("message_not_found")
    return msg


@api_method(
    "pins.add",
    raises={
        "channel_not_found",
        "no_item_specified",
        "bad_timestamp",
        "message_not_found",
        "not_in_channel",
        "already_pinned",
    },
)
def pins_add(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    msg = _message(ctx, ch.id)
    ctx.require_member(ch)
    if msg.pinned:
        raise SlackError("already_pinned")
    msg.pinned = True
    return {}


@api_method(
    "reactions.add",
    raises={
        "channel_not_found",
        "invalid_name",
        "is_archived",
        "no_item_specified",
        "bad_timestamp",
        "message_not_found",
        "already_reacted",
        "too_many_emoji",
    },
)
def reactions_add(ctx: CallContext) -> JSON:
    ch = ctx.channel()
    name = ctx.str_arg("name").strip(":")
    if not _EMOJI.fullmatch(name):
        raise SlackError("invalid_name")
    if ch.is_archived:
        raise SlackError("is_archived")
    msg = _message(ctx, ch.id)
    reaction = next((r for r in msg.reactions if r.name == name), None)
    if reaction is None:
        if len(msg.reactions) >= 23:  # Slack's cap on distinct emoji per message
            raise SlackError("too_many_emoji")
        reaction = Reaction(name=name, users=[])
        msg.reactions.append(reaction)
    if ctx.bot_id in reaction.users:
        raise SlackError("already_reacted")
    reaction.users.append(ctx.bot_id)
    return {}


@api_method(
    "bookmarks.add",
    raises={
        "channel_not_found",
        "invalid_bookmark_type",
        "invalid_link",
        "invalid_emoji",
        "too_many_bookmarks",
    },
)
def bookmarks_add(ctx: CallContext) -> JSON:
    ch = ctx.channel("channel_id")
    kind = ctx.str_arg("type")
    if kind != "link":
        raise SlackError("invalid_bookmark_type")  # only link bookmarks are modelled
    link = ctx.str_arg("link")
    if not link.startswith(("http://", "https://")):
        raise SlackError("invalid_link")
    emoji = ctx.args.get("emoji")
    if emoji and not re.fullmatch(r":[a-z0-9_+'\-]+:", str(emoji)):
        raise SlackError("invalid_emoji")
    if len(ch.bookmarks) >= 100:
        raise SlackError("too_many_bookmarks")
    bm = Bookmark(
        id="Bk" + ctx.ws.new_id("K")[1:],
        channel_id=ch.id,
        title=ctx.str_arg("title"),
        type=kind,
        link=link,
        emoji=str(emoji) if emoji else None,
        date_created=ctx.ws.now_int(),
        created_by=ctx.bot_id,
    )
    ch.bookmarks.append(bm)
    return {"bookmark": bookmark_json(ctx.ws, bm)}
