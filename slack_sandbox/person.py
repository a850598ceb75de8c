"""What a person sees and does: find a button or option by its text, fill inputs by their label."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sandbox.errors import AmbiguousError, ClientSideError, NotFoundError
from slack_sandbox.models import JSON, Channel, Ephemeral, Message, User, View
from slack_sandbox.workspace import Workspace

_OPTION_ELEMENTS = {"overflow", "static_select", "multi_static_select", "radio_buttons", "checkboxes"}
_STATEFUL = {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "static_select",
    "multi_static_select",
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "radio_buttons",
    "checkboxes",
    "datepicker",
    "timepicker",
}


@dataclass
class Target:
    """An element the person can act on, where it lives, and the option picked (for menus)."""

    source: Message | Ephemeral | View
    channel: Channel | None
    block: JSON
    element: JSON
    option: JSON | None = None


def label(obj: Any) -> str:
    """The visible text of a text object or of an object carrying one under ``text``/``label``."""
    if isinstance(obj, dict):
        if obj.get("type") in ("plain_text", "mrkdwn"):
            return str(obj.get("text", ""))
        for key in ("text", "label"):
            if key in obj:
                return label(obj[key])
    return ""


def options_of(element: Mapping[str, Any]) -> list[JSON]:
    opts = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        opts.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return opts


def interactive_elements(blocks: list[JSON]) -> Iterator[tuple[JSON, JSON]]:
    """(block, element) pairs that send block_actions when used."""
    for block in blocks:
        kind = block.get("type")
        if kind == "actions":
            for el in block.get("elements") or []:
                yield block, el
        elif kind == "section" and isinstance(block.get("accessory"), dict):
            if block["accessory"].get("type") != "image":
                yield block, block["accessory"]
        elif kind == "input" and block.get("dispatch_action") and isinstance(block.get("element"), dict):
            yield block, block["element"]


def _matches(text: str, wanted: str) -> bool:
    return text == wanted or text.strip().casefold() == wanted.strip().casefold()


def match_in(
    blocks: list[JSON],
    text: str | None,
    *,
    block_id: str | None = None,
    action_id: str | None = None,
    value: str | None = None,
) -> list[tuple[JSON, JSON, JSON | None]]:
    found: list[tuple[JSON, JSON, JSON | None]] = []
    for block, el in interactive_elements(blocks):
        if block_id is not None and block.get("block_id") != block_id:
            continue
        if action_id is not None and el.get("action_id") != action_id:
            continue
        kind = el.get("type")
        if kind == "button":
            if (text is None or _matches(label(el), text)) and (value is None or el.get("value") == value):
                found.append((block, el, None))
        elif kind in _OPTION_ELEMENTS:
            for opt in options_of(el):
                if (text is None or _matches(label(opt), text)) and (
                    value is None or opt.get("value") == value
                ):
                    found.append((block, el, opt))
    return found


def visible_clickables(blocks: list[JSON]) -> list[str]:
    out = []
    for _, el in interactive_elements(blocks):
        if el.get("type") == "button":
            out.append(f"button {label(el)!r}")
        elif el.get("type") in _OPTION_ELEMENTS:
            out.append(f"{el.get('type')} [{', '.join(repr(label(o)) for o in options_of(el))}]")
    return out


def surfaces_for(
    ws: Workspace,
    user: User,
    *,
    channel: Channel | None,
    message_ts: str | None,
    view: View | None,
) -> list[tuple[Message | Ephemeral | View, Channel | None]]:
    """Where the person looks, most recent first: a named view; else a channel; else open modal,
    App Home, their ephemeral messages, then messages in channels they are in."""
    if view is not None:
        return [(view, None)]
    out: list[tuple[Message | Ephemeral | View, Channel | None]] = []
    if channel is None and message_ts is None:
        out.extend((v, None) for v in reversed(ws.modal_stack(user.id)[-1:]))
        home = ws.views.get(ws.home_views.get(user.id, ""))
        if home is not None:
            out.append((home, None))
    msgs: list[tuple[Message | Ephemeral | View, Channel | None]] = []
    for eph in ws.ephemerals:
        if eph.user == user.id and not eph.deleted and (channel is None or eph.channel == channel.id):
            msgs.append((eph, ws.channels[eph.channel]))
    for ch_id, messages in ws.messages.items():
        ch = ws.channels[ch_id]
        if channel is not None and ch.id != channel.id:
            continue
        if ch.is_private and user.id not in ch.members:
            continue  # nobody sees inside a private channel they are not in
        if channel is None and message_ts is None and user.id not in ch.members:
            continue  # without a hint, a person looks in the channels they are in
        msgs.extend((m, ch) for m in messages if not m.deleted)
    msgs.sort(key=lambda pair: float(pair[0].ts) if not isinstance(pair[0], View) else 0.0, reverse=True)
    if message_ts is not None:
        msgs = [p for p in msgs if not isinstance(p[0], View) and p[0].ts == message_ts]
    return out + msgs


def blocks_of(source: Message | Ephemeral | View) -> list[JSON]:
    return source.blocks


def find_target(
    ws: Workspace,
    user: User,
    text: str | None,
    *,
    channel: Channel | None = None,
    message_ts: str | None = None,
    view: View | None = None,
    block_id: str | None = None,
    action_id: str | None = None,
    value: str | None = None,
) -> Target:
    if text is None and action_id is None and value is None:
        raise NotFoundError("say what to click: its text, or action_id=/value=")
    seen: list[str] = []
    for source, ch in surfaces_for(ws, user, channel=channel, message_ts=message_ts, view=view):
        hits = match_in(blocks_of(source), text, block_id=block_id, action_id=action_id, value=value)
        if len(hits) > 1:
            where = [f"{b.get('block_id')}/{e.get('action_id')}" for b, e, _ in hits]
            raise AmbiguousError(
                f"{text!r} matches {len(hits)} elements ({', '.join(where)}); pass block_id=/action_id="
            )
        if hits:
            block, el, opt = hits[0]
            return Target(source=source, channel=ch, block=block, element=el, option=opt)
        seen.extend(visible_clickables(blocks_of(source)))
    raise NotFoundError(f"nothing clickable matches {text!r}; visible: {seen[:20] or 'nothing'}")


# ---- state -------------------------------------------------------------------------------------------
def _option_value(opt: Mapping[str, Any]) -> JSON:
    return {"text": copy.deepcopy(opt.get("text")), "value": opt.get("value")}


def initial_state(el: Mapping[str, Any]) -> JSON:
    """The state Slack reports for an element the person has not touched."""
    kind = str(el.get("type"))
    out: JSON = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        out["value"] = el.get("initial_value")
    elif kind in ("static_select", "external_select", "radio_buttons"):
        init = el.get("initial_option")
        out["selected_option"] = _option_value(init) if isinstance(init, dict) else None
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        out["selected_options"] = [_option_value(o) for o in el.get("initial_options") or []]
    elif kind == "users_select":
        out["selected_user"] = el.get("initial_user")
    elif kind == "multi_users_select":
        out["selected_users"] = list(el.get("initial_users") or [])
    elif kind == "conversations_select":
        out["selected_conversation"] = el.get("initial_conversation")
    elif kind == "multi_conversations_select":
        out["selected_conversations"] = list(el.get("initial_conversations") or [])
    elif kind == "channels_select":
        out["selected_channel"] = el.get("initial_channel")
    elif kind == "multi_channels_select":
        out["selected_channels"] = list(el.get("initial_channels") or [])
    elif kind == "datepicker":
        out["selected_date"] = el.get("initial_date")
    elif kind == "timepicker":
        out["selected_time"] = el.get("initial_time")
    return out


def stateful_elements(blocks: list[JSON]) -> Iterator[tuple[JSON, JSON]]:
    for block in blocks:
        kind = block.get("type")
        els: list[Any] = []
        if kind == "input":
            els = [block.get("element")]
        elif kind == "actions":
            els = list(block.get("elements") or [])
        elif kind == "section":
            els = [block.get("accessory")]
        for el in els:
            if isinstance(el, dict) and el.get("type") in _STATEFUL and "action_id" in el:
                yield block, el


def full_state(blocks: list[JSON], entered: Mapping[str, Mapping[str, JSON]]) -> dict[str, dict[str, JSON]]:
    out: dict[str, dict[str, JSON]] = {}
    for block, el in stateful_elements(blocks):
        bid, aid = str(block.get("block_id")), str(el["action_id"])
        out.setdefault(bid, {})[aid] = copy.deepcopy(entered.get(bid, {}).get(aid) or initial_state(el))
    return out


def _find_option(el: Mapping[str, Any], wanted: Any) -> JSON:
    for opt in options_of(el):
        if _matches(label(opt), str(wanted)) or opt.get("value") == wanted:
            return opt
    raise NotFoundError(f"no option {wanted!r}; options: {[label(o) for o in options_of(el)]}")


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def value_state(ws: Workspace, el: Mapping[str, Any], value: Any) -> JSON:
    """Turn what a person would enter (text, option text, a User, a channel, a date) into element state."""
    kind = str(el.get("type"))
    out: JSON = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        out["value"] = None if value is None else str(value)
    elif kind in ("static_select", "radio_buttons"):
        out["selected_option"] = _option_value(_find_option(el, value))
    elif kind in ("multi_static_select", "checkboxes"):
        out["selected_options"] = [_option_value(_find_option(el, v)) for v in _as_list(value)]
    elif kind == "users_select":
        out["selected_user"] = ws.resolve_user(value).id
    elif kind == "multi_users_select":
        out["selected_users"] = [ws.resolve_user(v).id for v in _as_list(value)]
    elif kind == "conversations_select":
        out["selected_conversation"] = ws.resolve_channel(value).id
    elif kind == "multi_conversations_select":
        out["selected_conversations"] = [ws.resolve_channel(v).id for v in _as_list(value)]
    elif kind == "channels_select":
        out["selected_channel"] = ws.resolve_channel(value).id
    elif kind == "multi_channels_select":
        out["selected_channels"] = [ws.resolve_channel(v).id for v in _as_list(value)]
    elif kind == "datepicker":
        out["selected_date"] = value.isoformat() if isinstance(value, dt.date) else str(value)
    elif kind == "timepicker":
        out["selected_time"] = value.strftime("%H:%M") if isinstance(value, dt.time) else str(value)
    else:
        raise ClientSideError(f"a person cannot type into a {kind}")
    return out


def input_blocks(blocks: list[JSON]) -> list[JSON]:
    return [b for b in blocks if b.get("type") == "input" and isinstance(b.get("element"), dict)]


def resolve_input(blocks: list[JSON], key: str) -> JSON:
    """An input block by its label text (as the person sees it), else by block_id or action_id."""
    inputs = input_blocks(blocks)
    for pred in (
        lambda b: label(b.get("label")) == key,
        lambda b: _matches(label(b.get("label")), key),
        lambda b: b.get("block_id") == key,
        lambda b: b["element"].get("action_id") == key,
    ):
        hits = [b for b in inputs if pred(b)]
        if len(hits) > 1:
            raise AmbiguousError(f"several inputs match {key!r}; use the block_id")
        if hits:
            return hits[0]
    raise NotFoundError(f"no input labelled {key!r}; inputs: {[label(b.get('label')) for b in inputs]}")


def _empty(state: Mapping[str, Any]) -> bool:
    vals = [v for k, v in state.items() if k != "type"]
    return all(v in (None, "", []) for v in vals)


def client_checks(blocks: list[JSON], state: Mapping[str, Mapping[str, JSON]]) -> None:
    """What Slack's client enforces before it sends a view_submission at all."""
    for block in input_blocks(blocks):
        el = block["element"]
        st = state.get(str(block.get("block_id")), {}).get(str(el.get("action_id")), {})
        name = label(block.get("label"))
        if _empty(st):
            if not block.get("optional"):
                raise ClientSideError(f"input {name!r} is required")
            continue
        text = st.get("value")
        if isinstance(text, str) and el.get("type") == "plain_text_input":
            lo, hi = el.get("min_length"), el.get("max_length")
            if isinstance(lo, int) and len(text) < lo:
                raise ClientSideError(f"input {name!r} needs at least {lo} characters")
            if isinstance(hi, int) and len(text) > hi:
                raise ClientSideError(f"input {name!r} allows at most {hi} characters")
        if isinstance(text, str) and el.get("type") == "number_input":
            try:
                num = float(text)
            except ValueError:
                raise ClientSideError(f"input {name!r} needs a number") from None
            if not el.get("is_decimal_allowed") and not num.is_integer():
                raise ClientSideError(f"input {name!r} needs a whole number")


def action_for(target: Target, ws: Workspace, *, picked: Any = None, state: JSON | None = None) -> JSON:
    """The ``actions[0]`` entry Slack sends for this use of the element."""
    el, block = target.element, target.block
    kind = str(el.get("type"))
    out: JSON = {
        "type": kind,
        "action_id": el.get("action_id"),
        "block_id": block.get("block_id"),
        "action_ts": f"{ws.clock.now():.6f}",
    }
    if kind == "button":
        out["text"] = copy.deepcopy(el.get("text"))
        for key in ("value", "style", "url"):
            if key in el:
                out[key] = el[key]
    elif kind == "overflow":
        assert target.option is not None
        out["selected_option"] = _option_value(target.option)
    elif target.option is not None and kind in ("static_select", "radio_buttons"):
        out["selected_option"] = _option_value(target.option)
    elif target.option is not None and kind in ("multi_static_select", "checkboxes"):
        current = list((state or initial_state(el)).get("selected_options") or [])
        chosen = _option_value(target.option)
        # Clicking an option toggles it in a multi-choice element.
        current = (
            [o for o in current if o.get("value") != chosen["value"]]
            if chosen in current
            else [*current, chosen]
        )
        out["selected_options"] = current
    else:
        out.update({k: v for k, v in value_state(ws, el, picked).items() if k != "type"})
    for key in ("placeholder", "initial_option"):
        if key in el and kind != "button":
            out[key] = copy.deepcopy(el[key])
    return out


def state_entry(action: Mapping[str, Any]) -> JSON:
    """The element state an action leaves behind (what Slack then reports in state.values)."""
    kind = str(action.get("type"))
    typed = kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input")
    return {
        k: copy.deepcopy(v)
        for k, v in action.items()
        if k == "type" or k.startswith("selected_") or (typed and k == "value")
    }
