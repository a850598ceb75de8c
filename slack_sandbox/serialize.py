"""Turn workspace state into the JSON shapes Slack's Web API and payloads use."""

from __future__ import annotations

import copy
from typing import Any

from slack_sandbox.models import (
    JSON,
    Bookmark,
    Channel,
    Message,
    UploadedFile,
    User,
    UserGroup,
    View,
)
from slack_sandbox.workspace import Workspace


def conversation_json(ws: Workspace, ch: Channel, *, include_num_members: bool = False) -> JSON:
    if ch.is_im:
        return {
            "id": ch.id,
            "created": ch.created,
            "is_im": True,
            "is_org_shared": False,
            "user": ch.im_user,
            "is_user_deleted": False,
            "priority": 0,
        }
    out: JSON = {
        "id": ch.id,
        "name": ch.name,
        "is_channel": not ch.is_private,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": ch.is_private,
        "created": ch.created,
        "is_archived": ch.is_archived,
        "is_general": ch.is_general,
        "unlinked": 0,
        "name_normalized": ch.name,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": ws.team_id,
        "updated": ch.created * 1000,
        "parent_conversation": None,
        "creator": ch.creator,
        "shared_team_ids": [ws.team_id],
        "is_member": ws.bot_user.id in ch.members,
        "topic": {"value": ch.topic.value, "creator": ch.topic.creator, "last_set": ch.topic.last_set},
        "purpose": {
            "value": ch.purpose.value,
            "creator": ch.purpose.creator,
            "last_set": ch.purpose.last_set,
        },
        "previous_names": list(ch.previous_names),
    }
    if include_num_members:
        out["num_members"] = len(ch.members)
    return out


def user_json(ws: Workspace, user: User, *, include_email: bool) -> JSON:
    profile: JSON = {
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.display_name,
        "display_name_normalized": user.display_name,
        "status_text": "",
        "status_emoji": "",
        "avatar_hash": "g000000000000",
        "image_24": "",
        "image_48": "",
        "image_72": "",
        "team": ws.team_id,
    }
    if include_email and user.email:
        profile["email"] = user.email
    if user.is_bot:
        profile["bot_id"] = user.bot_id
    return {
        "id": user.id,
        "team_id": ws.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": user.tz,
        "tz_offset": 0,
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 1700000000,
        "has_2fa": False,
    }


def usergroup_json(ws: Workspace, grp: UserGroup, *, include_users: bool, include_count: bool) -> JSON:
    out: JSON = {
        "id": grp.id,
        "team_id": ws.team_id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": grp.name,
        "description": grp.description,
        "handle": grp.handle,
        "is_external": False,
        "date_create": grp.date_create,
        "date_update": grp.date_create,
        "date_delete": 0 if not grp.disabled else grp.date_create,
        "auto_type": None,
        "created_by": grp.created_by,
        "updated_by": grp.created_by,
        "deleted_by": None,
        "prefs": {"channels": [], "groups": []},
    }
    if include_users:
        out["users"] = list(grp.users)
    if include_count:
        out["user_count"] = len(grp.users)
    return out


def bot_profile_json(ws: Workspace) -> JSON:
    bot = ws.bot_user
    return {
        "id": bot.bot_id,
        "deleted": False,
        "name": bot.name,
        "updated": 1700000000,
        "app_id": ws.app_id,
        "icons": {"image_36": "", "image_48": "", "image_72": ""},
        "team_id": ws.team_id,
    }


def message_json(ws: Workspace, msg: Message, *, with_channel: bool = False) -> JSON:
    out: JSON = {"type": "message", "ts": msg.ts, "user": msg.user, "text": msg.text, "team": ws.team_id}
    if msg.subtype:
        out["subtype"] = msg.subtype
    if msg.blocks:
        out["blocks"] = copy.deepcopy(msg.blocks)
    if msg.attachments:
        out["attachments"] = copy.deepcopy(msg.attachments)
    if msg.bot_id:
        out["bot_id"] = msg.bot_id
        out["app_id"] = msg.app_id
        out["bot_profile"] = bot_profile_json(ws)
    if msg.thread_ts:
        out["thread_ts"] = msg.thread_ts
        if msg.is_reply:
            parent = ws.message(msg.channel, msg.thread_ts)
            out["parent_user_id"] = parent.user if parent else msg.user
        else:
            replies = [m for m in ws.messages.get(msg.channel, []) if m.thread_ts == msg.ts and m.is_reply]
            replies = [m for m in replies if not m.deleted]
            out["reply_count"] = len(replies)
            out["reply_users"] = sorted({m.user for m in replies})
            out["reply_users_count"] = len(out["reply_users"])
            out["latest_reply"] = replies[-1].ts if replies else msg.ts
    if msg.reply_broadcast:
        out["subtype"] = "thread_broadcast"
    if msg.reactions:
        out["reactions"] = [
            {"name": r.name, "users": list(r.users), "count": len(r.users)} for r in msg.reactions
        ]
    if msg.pinned:
        out["pinned_to"] = [msg.channel]
    if msg.edited:
        out["edited"] = dict(msg.edited)
    if msg.files:
        out["files"] = copy.deepcopy(msg.files)
        out["upload"] = False
    if msg.metadata:
        out["metadata"] = copy.deepcopy(msg.metadata)
    if with_channel:
        out["channel"] = msg.channel
    return out


def view_json(ws: Workspace, view: View) -> JSON:
    d = view.definition
    out: JSON = {
        "id": view.id,
        "team_id": ws.team_id,
        "type": view.type,
        "blocks": copy.deepcopy(d.get("blocks", [])),
        "private_metadata": d.get("private_metadata", ""),
        "callback_id": d.get("callback_id", ""),
        "state": {"values": copy.deepcopy(view.state)},
        "hash": view.hash,
        "clear_on_close": bool(d.get("clear_on_close", False)),
        "notify_on_close": bool(d.get("notify_on_close", False)),
        "close": copy.deepcopy(d.get("close")),
        "submit": copy.deepcopy(d.get("submit")),
        "previous_view_id": view.previous_view_id,
        "root_view_id": view.root_view_id,
        "app_id": ws.app_id,
        "external_id": d.get("external_id", ""),
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_user.bot_id,
    }
    if view.type == "modal":
        out["title"] = copy.deepcopy(d.get("title"))
        out["submit_disabled"] = bool(d.get("submit_disabled", False))
    return out


def bookmark_json(ws: Workspace, bm: Bookmark) -> JSON:
    return {
        "id": bm.id,
        "channel_id": bm.channel_id,
        "title": bm.title,
        "link": bm.link,
        "emoji": bm.emoji,
        "icon_url": None,
        "type": bm.type,
        "entity_id": None,
        "date_created": bm.date_created,
        "date_updated": 0,
        "rank": "g",
        "last_updated_by_user_id": bm.created_by,
        "last_updated_by_team_id": ws.team_id,
        "shortcut_id": None,
        "app_id": ws.app_id,
    }


def file_json(ws: Workspace, f: UploadedFile, base_url: str) -> JSON:
    out: dict[str, Any] = {
        "id": f.id,
        "created": f.created,
        "timestamp": f.created,
        "name": f.filename,
        "title": f.title or f.filename,
        "mimetype": "application/octet-stream",
        "filetype": f.filename.rsplit(".", 1)[-1] if "." in f.filename else "binary",
        "user": f.user,
        "user_team": ws.team_id,
        "size": f.length,
        "is_external": False,
        "is_public": False,
        "url_private": f"{base_url.rstrip('/')}/files/{f.id}/{f.filename}",
        "channels": list(f.channels),
    }
    if f.alt_txt:
        out["alt_txt"] = f.alt_txt
    return out
