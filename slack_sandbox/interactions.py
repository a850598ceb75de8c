"""What Slack does with the app's answers: command responses, response_action, response_url posts."""

from __future__ import annotations

import copy
from typing import Any

from slack_sandbox.blockkit import BlockKitError, check_message_blocks, check_view, fill_ids
from slack_sandbox.config import SandboxConfig
from slack_sandbox.inbound import Ack
from slack_sandbox.methods.views import new_hash
from slack_sandbox.models import JSON, Channel, Ephemeral, Message, ResponseUrl, View
from slack_sandbox.person import input_blocks
from slack_sandbox.workspace import Workspace


def _body_as_message(ack: Ack) -> JSON | None:
    if not ack.ok or not ack.body.strip():
        return None
    if "json" in ack.headers.get("content-type", ""):
        data = ack.json()
        return data if isinstance(data, dict) else None
    return {"text": ack.body}


def post_response(
    ws: Workspace,
    data: JSON,
    *,
    user_id: str,
    channel: Channel,
    source: str,
    original: Message | Ephemeral | None = None,
    thread_ts: str | None = None,
) -> str | None:
    """Show a response the way Slack would; returns an error code when Slack would refuse it."""
    blocks = data.get("blocks")
    if blocks is not None:
        try:
            check_message_blocks(blocks)
        except BlockKitError as exc:
            ws.record_violation("invalid_blocks", f"{source}: {'; '.join(exc.messages)}")
            return "invalid_blocks"
        blocks = fill_ids(copy.deepcopy(blocks), lambda: ws.new_id("b")[-5:])
    text = str(data.get("text") or "")
    if data.get("delete_original"):
        if original is not None:
            original.deleted = True
        return None
    if not text and not blocks and not data.get("attachments"):
        ws.record_violation("no_text", f"{source}: a response needs text or blocks")
        return "no_text"
    if data.get("replace_original") and original is not None:
        original.text = text
        original.blocks = list(blocks or [])
        if isinstance(original, Message):
            original.edited = {"user": ws.bot_user.id, "ts": ws.next_ts()}
        return None
    thread = data.get("thread_ts") or thread_ts
    if thread:
        thread = ws.thread_root(channel.id, str(thread)) or thread
    if data.get("response_type") == "in_channel":
        ws.add_message(
            Message(
                ts=ws.next_ts(),
                channel=channel.id,
                user=ws.bot_user.id,
                text=text,
                blocks=list(blocks or []),
                attachments=list(data.get("attachments") or []),
                thread_ts=str(thread) if thread else None,
                bot_id=ws.bot_user.bot_id,
                app_id=ws.app_id,
                source=source,
            )
        )
    else:
        ws.ephemerals.append(
            Ephemeral(
                ts=ws.next_ts(),
                channel=channel.id,
                user=user_id,
                text=text,
                blocks=list(blocks or []),
                thread_ts=str(thread) if thread else None,
                source=source,
            )
        )
    return None


def show_command_ack(ws: Workspace, ack: Ack, user_id: str, channel: Channel) -> None:
    """A slash command's ack body is shown to the user (ephemeral unless response_type is in_channel)."""
    data = _body_as_message(ack)
    if data is not None:
        with ws.lock:
            post_response(ws, data, user_id=user_id, channel=channel, source="ack")


def use_response_url(ws: Workspace, config: SandboxConfig, ru: ResponseUrl, data: Any) -> tuple[int, str]:
    """A POST to a response_url: at most ``response_url_max_uses`` times within ``response_url_ttl``."""
    with ws.lock:
        if ws.clock.now() - ru.issued_at > config.response_url_ttl:
            ws.record_violation("response_url_expired", f"{ru.url} used after {config.response_url_ttl:g}s")
            return 404, "expired_url"
        if ru.uses >= config.response_url_max_uses:
            ws.record_violation(
                "response_url_overused", f"{ru.url} used more than {config.response_url_max_uses} times"
            )
            return 404, "used_url"
        if not isinstance(data, dict):
            return 400, "invalid_payload"
        ru.uses += 1
        channel = ws.channel(ru.channel or "")
        if channel is None:
            return 404, "channel_not_found"
        original: Message | Ephemeral | None = None
        if ru.source_ts:
            if ru.source_ephemeral:
                original = next(
                    (e for e in ws.ephemerals if e.ts == ru.source_ts and e.user == ru.user), None
                )
            else:
                original = ws.message(channel.id, ru.source_ts)
        error = post_response(
            ws,
            data,
            user_id=ru.user,
            channel=channel,
            source="response_url",
            original=original,
            thread_ts=ru.thread_ts,
        )
        return (400, error) if error else (200, "ok")


def close_top(ws: Workspace, user_id: str) -> View | None:
    stack = ws.modal_stacks.get(user_id, [])
    if not stack:
        return None
    view = ws.views[stack.pop()]
    view.is_open = False
    return view


def close_all(ws: Workspace, user_id: str) -> None:
    while close_top(ws, user_id) is not None:
        pass


def apply_view_ack(ws: Workspace, config: SandboxConfig, ack: Ack, user_id: str, view: View) -> None:
    """Act on a view_submission's answer: errors, update, push, clear, or (empty) close this view."""
    with ws.lock:
        if not ack.ok:
            return  # Slack tells the user it could not reach the app; the modal stays open
        if not ack.body.strip():
            if ws.modal_stacks.get(user_id, [])[-1:] == [view.id]:
                close_top(ws, user_id)
            return
        data = ack.json()
        action = data.get("response_action") if isinstance(data, dict) else None
        if not isinstance(data, dict) or action is None:
            ws.record_violation("invalid_view_ack", f"view_submission answered {ack.body[:200]!r}")
            return
        if action == "errors":
            _check_errors(ws, view, data.get("errors"))
        elif action in ("update", "push"):
            _replace_or_push(ws, config, user_id, view, action, data.get("view"))
        elif action == "clear":
            close_all(ws, user_id)
        else:
            ws.record_violation("invalid_view_ack", f"unknown response_action {action!r}")


def _check_errors(ws: Workspace, view: View, errors: Any) -> None:
    valid = {str(b.get("block_id")) for b in input_blocks(view.blocks)}
    if not isinstance(errors, dict) or not errors:
        ws.record_violation("invalid_view_ack", "response_action errors needs a non-empty errors object")
        return
    for block_id, message in errors.items():
        if block_id not in valid:
            ws.record_violation("invalid_view_ack", f"errors names {block_id!r}, which is not an input block")
        elif not isinstance(message, str) or len(message) > 150:
            ws.record_violation(
                "invalid_view_ack", f"error text for {block_id!r} must be a string of <=150 chars"
            )


def _replace_or_push(
    ws: Workspace, config: SandboxConfig, user_id: str, view: View, action: str, definition: Any
) -> None:
    try:
        check_view(definition, allowed_types=("modal",))
    except BlockKitError as exc:
        ws.record_violation("invalid_view", f"response_action {action}: {'; '.join(exc.messages)}")
        return
    assert isinstance(definition, dict)
    definition = copy.deepcopy(definition)
    fill_ids(definition["blocks"], lambda: ws.new_id("b")[-5:])
    if action == "update":
        view.definition, view.hash, view.state = definition, new_hash(ws), {}
        return
    stack = ws.modal_stacks[user_id]
    if len(stack) >= config.max_modal_stack:
        ws.record_violation(
            "push_limit_reached", f"response_action push beyond {config.max_modal_stack} views"
        )
        return
    vid = ws.new_id("V")
    ws.views[vid] = View(
        id=vid,
        user=user_id,
        type="modal",
        definition=definition,
        hash=new_hash(ws),
        root_view_id=ws.views[stack[0]].id if stack else vid,
        previous_view_id=stack[-1] if stack else None,
    )
    stack.append(vid)
