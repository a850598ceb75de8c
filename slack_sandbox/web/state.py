"""The workspace as one JSON document: what ``GET /_sandbox/state`` serves and the live page draws."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from slack_sandbox.config import SandboxConfig
from slack_sandbox.models import JSON, Ephemeral, Message, User, View
from slack_sandbox.serialize import conversation_json
from slack_sandbox.workspace import Workspace


def _user(u: User) -> JSON:
    return {
        "id": u.id,
        "name": u.name,
        "email": u.email,
        "real_name": u.real_name,
        "display_name": u.display_name,
        "is_bot": u.is_bot,
        "deleted": u.deleted,
    }


def _message(m: Message) -> JSON:
    return {
        "ts": m.ts,
        "user": m.user,
        "text": m.text,
        "thread_ts": m.thread_ts,
        "blocks": copy.deepcopy(m.blocks),
        "attachments": copy.deepcopy(m.attachments),
        "subtype": m.subtype,
        "bot_id": m.bot_id,
        "source": m.source,
        "pinned": m.pinned,
        "edited": m.edited is not None,
        "reply_broadcast": m.reply_broadcast,
        "reactions": [{"name": r.name, "users": list(r.users)} for r in m.reactions],
        "files": [{"name": f.get("name"), "title": f.get("title")} for f in m.files if isinstance(f, dict)],
    }


def _ephemeral(e: Ephemeral) -> JSON:
    return {
        "ts": e.ts,
        "user": e.user,
        "channel": e.channel,
        "text": e.text,
        "thread_ts": e.thread_ts,
        "blocks": copy.deepcopy(e.blocks),
    }


def _modal(v: View) -> JSON:
    d = v.definition
    return {
        "id": v.id,
        "hash": v.hash,
        "title": v.title,
        "callback_id": v.callback_id,
        "submit": copy.deepcopy(d.get("submit")),
        "close": copy.deepcopy(d.get("close")),
        "blocks": copy.deepcopy(v.blocks),
        "state": copy.deepcopy(v.state),
    }


def workspace_state(ws: Workspace, config: SandboxConfig) -> JSON:
    """Everything the page needs, taken under the workspace lock (copies, so it serialises safely later).

    ``version`` is a hash of the rest: it changes exactly when anything shown changes, so the page
    redraws only then.
    """
    with ws.lock:
        state: dict[str, Any] = {
            "team_id": ws.team_id,
            "team_name": ws.team_name,
            "bot_user_id": ws.bot_user.id,
            "web_actions": config.web_actions,
            "users": [_user(u) for u in ws.users.values()],
            "usergroups": [{"id": g.id, "handle": g.handle, "name": g.name} for g in ws.usergroups.values()],
            "channels": [
                {
                    **conversation_json(ws, c),
                    "members": list(c.members),
                    "messages": [_message(m) for m in ws.messages.get(c.id, []) if not m.deleted],
                }
                for c in ws.channels.values()
            ],
            "ephemerals": [_ephemeral(e) for e in ws.ephemerals if not e.deleted],
            "views": [
                {"id": v.id, "user": v.user, "type": v.type, "title": v.title, "open": v.is_open}
                for v in ws.views.values()
            ],
            # Each person's modal stack, bottom first: the last one is what they see.
            "modals": {uid: [_modal(v) for v in ws.modal_stack(uid)] for uid in ws.modal_stacks},
            "violations": [f"{v.kind}: {v.detail}" for v in ws.violations],
        }
        text = json.dumps(state, sort_keys=True, default=str)
    state["version"] = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
    return state
