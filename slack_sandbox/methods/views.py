"""views.*: open, push, update, publish — the modal stack (at most 3) and App Home."""

from __future__ import annotations

import copy
import re
import secrets

from slack_sandbox.blockkit import VIEW_MAX_BYTES, BlockKitError, check_view, fill_ids, view_size
from slack_sandbox.errors import SlackError
from slack_sandbox.methods.common import json_arg
from slack_sandbox.methods.registry import CallContext, api_method
from slack_sandbox.models import JSON, Trigger, View
from slack_sandbox.serialize import view_json
from slack_sandbox.workspace import Workspace

_TRIGGER = re.compile(r"\d+\.\d+\.[0-9a-f]+")
# views.* document no code for a malformed view; Slack's own "invalid_arguments" is not listed for them,
# so the stand-in uses the common code for malformed request data, with Slack's json-pointer messages.
VIEW_INVALID_CODE = "invalid_form_data"


def new_hash(ws: Workspace) -> str:
    return f"{ws.now_int()}.{secrets.token_hex(4)}"


def _view_arg(ctx: CallContext, allowed: tuple[str, ...], current: View | None = None) -> JSON:
    view: JSON | None = json_arg(ctx, "view", want=dict, code=VIEW_INVALID_CODE)
    if view is None:
        raise SlackError(
            VIEW_INVALID_CODE, messages=["[ERROR] missing required field: view [json-pointer:/view]"]
        )
    if view_size(view) > VIEW_MAX_BYTES:
        raise SlackError("view_too_large")
    try:
        check_view(view, allowed_types=allowed)
    except BlockKitError as exc:
        ctx.violation("invalid_view", "; ".join(exc.messages))
        raise SlackError(VIEW_INVALID_CODE, messages=exc.messages) from None
    ext = view.get("external_id")
    if ext:
        for other in ctx.ws.views.values():
            if other.is_open and other.external_id == ext and (current is None or other.id != current.id):
                raise SlackError("duplicate_external_id")
    view = copy.deepcopy(view)
    fill_ids(view["blocks"], lambda: ctx.ws.new_id("b")[-5:])
    return view


def _trigger(ctx: CallContext) -> Trigger:
    """Exchange the trigger_id: it must be one Slack issued, unused, and at most ``trigger_ttl`` old."""
    tid = ctx.str_arg("trigger_id") or ctx.str_arg("interactivity_pointer")
    if not tid or not _TRIGGER.fullmatch(tid):
        raise SlackError("invalid_trigger_id")
    trig = ctx.ws.triggers.get(tid)
    if trig is None:
        raise SlackError("invalid_trigger_id")
    if trig.used:
        raise SlackError("exchanged_trigger_id")
    if ctx.ws.clock.now() - trig.issued_at > ctx.config.trigger_ttl:
        raise SlackError("expired_trigger_id")
    trig.used = True
    return trig


def _close_stack(ws: Workspace, user_id: str) -> None:
    for view in ws.modal_stack(user_id):
        view.is_open = False
    ws.modal_stacks[user_id] = []


@api_method(
    "views.open",
    raises={
        VIEW_INVALID_CODE,
        "view_too_large",
        "duplicate_external_id",
        "invalid_trigger_id",
        "exchanged_trigger_id",
        "expired_trigger_id",
    },
)
def views_open(ctx: CallContext) -> JSON:
    definition = _view_arg(ctx, ("modal",))
    trig = _trigger(ctx)
    ws = ctx.ws
    _close_stack(ws, trig.user)  # a new modal replaces whatever the user had open
    vid = ws.new_id("V")
    view = View(
        id=vid, user=trig.user, type="modal", definition=definition, hash=new_hash(ws), root_view_id=vid
    )
    ws.views[vid] = view
    ws.modal_stacks[trig.user] = [vid]
    return {"view": view_json(ws, view)}


@api_method(
    "views.push",
    raises={
        VIEW_INVALID_CODE,
        "view_too_large",
        "duplicate_external_id",
        "invalid_trigger_id",
        "exchanged_trigger_id",
        "expired_trigger_id",
        "not_found",
        "push_limit_reached",
    },
)
def views_push(ctx: CallContext) -> JSON:
    definition = _view_arg(ctx, ("modal",))
    trig = _trigger(ctx)
    ws = ctx.ws
    stack = ws.modal_stack(trig.user)
    if not stack or trig.view_id not in {v.id for v in stack}:
        raise SlackError("not_found")  # push needs a trigger from an interaction inside the open modal
    if len(stack) >= ctx.config.max_modal_stack:
        raise SlackError("push_limit_reached")
    vid = ws.new_id("V")
    view = View(
        id=vid,
        user=trig.user,
        type="modal",
        definition=definition,
        hash=new_hash(ws),
        root_view_id=stack[0].id,
        previous_view_id=stack[-1].id,
    )
    ws.views[vid] = view
    ws.modal_stacks[trig.user].append(vid)
    return {"view": view_json(ws, view)}


def _keep_state(view: View, definition: JSON) -> None:
    """Slack keeps what the user typed into inputs whose block_id and action_id survive an update."""
    alive: set[tuple[str, str]] = set()
    for block in definition.get("blocks", []):
        el = block.get("element") or block.get("accessory")
        elements = block.get("elements") if isinstance(block.get("elements"), list) else [el]
        for e in elements:
            if isinstance(e, dict) and "action_id" in e:
                alive.add((str(block.get("block_id")), str(e["action_id"])))
    view.state = {
        bid: {aid: val for aid, val in actions.items() if (bid, aid) in alive}
        for bid, actions in view.state.items()
        if any((bid, aid) in alive for aid in actions)
    }


@api_method(
    "views.update",
    raises={VIEW_INVALID_CODE, "view_too_large", "duplicate_external_id", "not_found", "hash_conflict"},
)
def views_update(ctx: CallContext) -> JSON:
    ws = ctx.ws
    vid, ext = ctx.str_arg("view_id"), ctx.str_arg("external_id")
    view = (
        ws.views.get(vid)
        if vid
        else next((v for v in ws.views.values() if ext and v.external_id == ext and v.is_open), None)
    )
    if view is None or not view.is_open:
        raise SlackError("not_found")
    if ctx.args.get("hash") and ctx.str_arg("hash") != view.hash:
        raise SlackError("hash_conflict")
    definition = _view_arg(ctx, (view.type,), current=view)
    view.definition = definition
    view.hash = new_hash(ws)
    _keep_state(view, definition)
    return {"view": view_json(ws, view)}


@api_method(
    "views.publish",
    raises={VIEW_INVALID_CODE, "view_too_large", "duplicate_external_id", "hash_conflict", "access_denied"},
)
def views_publish(ctx: CallContext) -> JSON:
    ws = ctx.ws
    user = ws.user(ctx.str_arg("user_id"))
    if user is None or user.is_bot:
        # Slack's answer for an unknown user is not documented for views.publish; the common code fits.
        raise SlackError("access_denied")
    current = ws.views.get(ws.home_views.get(user.id, ""))
    if current is not None and ctx.args.get("hash") and ctx.str_arg("hash") != current.hash:
        raise SlackError("hash_conflict")
    definition = _view_arg(ctx, ("home",), current=current)
    if current is None:
        vid = ws.new_id("V")
        current = View(
            id=vid, user=user.id, type="home", definition=definition, hash=new_hash(ws), root_view_id=vid
        )
        ws.views[vid] = current
        ws.home_views[user.id] = vid
    else:
        current.definition = definition
        current.hash = new_hash(ws)
        _keep_state(current, definition)
    return {"view": view_json(ws, current)}
