"""Builders of what Slack sends the app: slash command forms, interaction payloads, event envelopes."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from slack_sandbox.models import JSON, Channel, Ephemeral, Message, User, View
from slack_sandbox.serialize import message_json, view_json
from slack_sandbox.workspace import Workspace


def user_ref(ws: Workspace, user: User) -> JSON:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id}


def team_ref(ws: Workspace) -> JSON:
    return {"id": ws.team_id, "domain": ws.team_domain}


def channel_name(ch: Channel) -> str:
    return "directmessage" if ch.is_im else ch.name


def action_ts(ws: Workspace) -> str:
    return f"{ws.clock.now():.6f}"


def slash_command_form(
    ws: Workspace,
    user: User,
    channel: Channel,
    command: str,
    text: str,
    *,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": channel.id,
        "channel_name": channel_name(channel),
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _interaction_base(ws: Workspace, kind: str, user: User) -> JSON:
    return {
        "type": kind,
        "user": user_ref(ws, user),
        "api_app_id": ws.app_id,
        "token": ws.verification_token,
        "team": team_ref(ws),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def block_actions_from_message(
    ws: Workspace,
    user: User,
    channel: Channel,
    source: Message | Ephemeral,
    actions: list[JSON],
    *,
    state: dict[str, dict[str, JSON]],
    trigger_id: str,
    response_url: str,
) -> JSON:
    ephemeral = isinstance(source, Ephemeral)
    out = _interaction_base(ws, "block_actions", user)
    container: JSON = {
        "type": "message",
        "message_ts": source.ts,
        "channel_id": channel.id,
        "is_ephemeral": ephemeral,
    }
    if source.thread_ts:
        container["thread_ts"] = source.thread_ts
    out.update(
        {
            "container": container,
            "trigger_id": trigger_id,
            "channel": {"id": channel.id, "name": channel_name(channel)},
            "state": {"values": copy.deepcopy(state)},
            "response_url": response_url,
            "actions": actions,
        }
    )
    if isinstance(source, Message):  # Slack does not echo ephemeral messages back
        out["message"] = message_json(ws, source)
    return out


def block_actions_from_view(
    ws: Workspace, user: User, view: View, actions: list[JSON], *, trigger_id: str
) -> JSON:
    out = _interaction_base(ws, "block_actions", user)
    out.update(
        {
            "container": {"type": "view", "view_id": view.id},
            "trigger_id": trigger_id,
            "view": view_json(ws, view),
            "actions": actions,
        }
    )
    return out


def view_submission(
    ws: Workspace, user: User, view: View, *, trigger_id: str, response_urls: list[JSON]
) -> JSON:
    out = _interaction_base(ws, "view_submission", user)
    out.update({"trigger_id": trigger_id, "view": view_json(ws, view), "response_urls": response_urls})
    return out


def view_closed(ws: Workspace, user: User, view: View, *, is_cleared: bool) -> JSON:
    out = _interaction_base(ws, "view_closed", user)
    out.update({"view": view_json(ws, view), "is_cleared": is_cleared})
    return out


def global_shortcut(ws: Workspace, user: User, callback_id: str, *, trigger_id: str) -> JSON:
    out = _interaction_base(ws, "shortcut", user)
    out.update({"callback_id": callback_id, "trigger_id": trigger_id, "action_ts": action_ts(ws)})
    return out


def message_shortcut(
    ws: Workspace,
    user: User,
    callback_id: str,
    channel: Channel,
    message: Message,
    *,
    trigger_id: str,
    response_url: str,
) -> JSON:
    out = _interaction_base(ws, "message_action", user)
    # Message shortcuts carry a shorter user object and no api_app_id (as recorded from Slack).
    out.pop("api_app_id")
    out["user"] = {"id": user.id, "name": user.name, "team_id": ws.team_id}
    out.update(
        {
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "message_ts": message.ts,
            "response_url": response_url,
            "message": message_json(ws, message),
            "channel": {"id": channel.id, "name": channel_name(channel)},
            "action_ts": action_ts(ws),
        }
    )
    return out


def event_envelope(ws: Workspace, event: JSON, *, event_id: str | None = None) -> JSON:
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + ws.new_id("E")[1:],
        "event_time": ws.now_int(),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user.id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_urlsafe(24),
    }


def url_verification(ws: Workspace, challenge: str) -> JSON:
    return {"token": ws.verification_token, "challenge": challenge, "type": "url_verification"}


def rich_text_of(text: str) -> list[JSON]:
    """The rich_text block Slack's client attaches to a typed message (plain text only)."""
    return [
        {
            "type": "rich_text",
            "block_id": secrets.token_hex(2),
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
        }
    ]


def message_event(ws: Workspace, msg: Message, channel: Channel, kind: str = "message") -> JSON:
    event: dict[str, Any] = {
        "type": kind,
        "user": msg.user,
        "text": msg.text,
        "ts": msg.ts,
        "channel": channel.id,
        "event_ts": msg.ts,
        "team": ws.team_id,
        "client_msg_id": secrets.token_hex(16),
        "blocks": copy.deepcopy(msg.blocks),
    }
    if kind == "message":
        event["channel_type"] = "im" if channel.is_im else "group" if channel.is_private else "channel"
    if msg.thread_ts:
        event["thread_ts"] = msg.thread_ts
    return event
