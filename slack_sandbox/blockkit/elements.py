"""Interactive and image elements, and which of them each block type accepts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sandbox.blockkit.composition import (
    ID,
    PLAIN_OPTION,
    RICH_OPTION,
    STYLE,
    URL,
    confirm_dialog,
    conversation_filter,
    option,
    option_group,
    plain_text,
    text_object,
)
from slack_sandbox.blockkit.core import (
    Check,
    Validator,
    anything,
    array_of,
    boolean,
    integer,
    object_with,
    one_of,
    pattern,
    string,
)

_COMMON_INTERACTIVE: dict[str, Check] = {"type": anything, "action_id": ID}
_SELECT_BASE: dict[str, Check] = {
    **_COMMON_INTERACTIVE,
    "placeholder": plain_text(150),
    "confirm": confirm_dialog,
    "focus_on_load": boolean,
}
_MULTI = {"max_selected_items": integer(1)}


def _options_of(value: Mapping[str, Any]) -> list[Any]:
    opts = list(value.get("options") or [])
    for group in value.get("option_groups") or []:
        if isinstance(group, dict):
            opts.extend(group.get("options") or [])
    return opts


def _same_option(a: Any, b: Any) -> bool:
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    text_a, text_b = a.get("text"), b.get("text")
    same_text = (
        isinstance(text_a, dict) and isinstance(text_b, dict) and text_a.get("text") == text_b.get("text")
    )
    return bool(a.get("value") == b.get("value") and same_text)


def _check_initial(v: Validator, value: Mapping[str, Any], ptr: str) -> None:
    options = _options_of(value)
    if "initial_option" in value and not any(_same_option(value["initial_option"], o) for o in options):
        v.err("initial_option must match one of the options", f"{ptr}/initial_option")
    for i, init in enumerate(value.get("initial_options") or []):
        if not any(_same_option(init, o) for o in options):
            v.err("initial_options must match the options", f"{ptr}/initial_options/{i}")


def _static_select(multi: bool) -> Check:
    fields: dict[str, Check] = {
        **_SELECT_BASE,
        "options": array_of(PLAIN_OPTION, max_items=100, min_items=1),
        "option_groups": array_of(option_group, max_items=100, min_items=1),
    }
    if multi:
        fields.update(_MULTI)
        fields["initial_options"] = array_of(PLAIN_OPTION)
    else:
        fields["initial_option"] = PLAIN_OPTION

    def check(v: Validator, value: Any, ptr: str) -> None:
        if not v.obj(value, ptr, fields):
            return
        has_opts, has_groups = "options" in value, "option_groups" in value
        if has_opts == has_groups:
            v.err("must provide exactly one of options or option_groups", ptr)
        _check_initial(v, value, ptr)

    return check


def _external_select(multi: bool) -> Check:
    fields: dict[str, Check] = {**_SELECT_BASE, "min_query_length": integer(0)}
    if multi:
        fields.update(_MULTI)
        fields["initial_options"] = array_of(PLAIN_OPTION)
    else:
        fields["initial_option"] = PLAIN_OPTION
    return object_with(fields)


def _choices(max_items: int, initial_key: str) -> Check:
    fields: dict[str, Check] = {
        **_COMMON_INTERACTIVE,
        "options": array_of(RICH_OPTION, max_items=max_items, min_items=1),
        "confirm": confirm_dialog,
        "focus_on_load": boolean,
        initial_key: RICH_OPTION if initial_key == "initial_option" else array_of(RICH_OPTION),
    }

    def check(v: Validator, value: Any, ptr: str) -> None:
        if v.obj(value, ptr, fields, ("options",)):
            _check_initial(v, value, ptr)

    return check


def _button(v: Validator, value: Any, ptr: str) -> None:
    v.obj(
        value,
        ptr,
        {
            **_COMMON_INTERACTIVE,
            "text": plain_text(75),
            "url": URL,
            "value": string(2000),
            "style": STYLE,
            "confirm": confirm_dialog,
            "accessibility_label": string(75, 1),
        },
        ("text",),
    )


def _overflow(v: Validator, value: Any, ptr: str) -> None:
    v.obj(
        value,
        ptr,
        {
            **_COMMON_INTERACTIVE,
            "options": array_of(option(with_url=True), max_items=5, min_items=2),
            "confirm": confirm_dialog,
        },
        ("options",),
    )


def slack_file(v: Validator, value: Any, ptr: str) -> None:
    v.obj(value, ptr, {"id": string(), "url": URL})


def image_element(v: Validator, value: Any, ptr: str) -> None:
    if v.obj(
        value,
        ptr,
        {"type": anything, "image_url": URL, "slack_file": slack_file, "alt_text": string(2000)},
    ):
        if "alt_text" not in value:
            v.err("missing required field: alt_text", ptr)
        if ("image_url" in value) == ("slack_file" in value):
            v.err("must provide exactly one of image_url or slack_file", ptr)


def _plain_text_input(v: Validator, value: Any, ptr: str) -> None:
    fields: dict[str, Check] = {
        **_COMMON_INTERACTIVE,
        "placeholder": plain_text(150),
        "initial_value": string(3000),
        "multiline": boolean,
        "min_length": integer(0, 3000),
        "max_length": integer(1, 3000),
        "dispatch_action_config": object_with(
            {"trigger_actions_on": array_of(one_of("on_enter_pressed", "on_character_entered"))}
        ),
        "focus_on_load": boolean,
    }
    if v.obj(value, ptr, fields):
        lo, hi = value.get("min_length"), value.get("max_length")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            v.err("min_length must not be greater than max_length", f"{ptr}/min_length")


_DATE = pattern(r"\d{4}-\d{2}-\d{2}", "a date formatted YYYY-MM-DD")
_TIME = pattern(r"\d{2}:\d{2}", "a time formatted HH:mm")

ELEMENTS: dict[str, Check] = {
    "button": _button,
    "static_select": _static_select(False),
    "multi_static_select": _static_select(True),
    "external_select": _external_select(False),
    "multi_external_select": _external_select(True),
    "users_select": object_with({**_SELECT_BASE, "initial_user": string()}),
    "multi_users_select": object_with({**_SELECT_BASE, **_MULTI, "initial_users": array_of(string())}),
    "conversations_select": object_with(
        {
            **_SELECT_BASE,
            "initial_conversation": string(),
            "default_to_current_conversation": boolean,
            "response_url_enabled": boolean,
            "filter": conversation_filter,
        }
    ),
    "multi_conversations_select": object_with(
        {
            **_SELECT_BASE,
            **_MULTI,
            "initial_conversations": array_of(string()),
            "default_to_current_conversation": boolean,
            "filter": conversation_filter,
        }
    ),
    "channels_select": object_with(
        {**_SELECT_BASE, "initial_channel": string(), "response_url_enabled": boolean}
    ),
    "multi_channels_select": object_with({**_SELECT_BASE, **_MULTI, "initial_channels": array_of(string())}),
    "plain_text_input": _plain_text_input,
    "email_text_input": object_with(
        {
            **_COMMON_INTERACTIVE,
            "placeholder": plain_text(150),
            "initial_value": string(),
            "focus_on_load": boolean,
        }
    ),
    "url_text_input": object_with(
        {
            **_COMMON_INTERACTIVE,
            "placeholder": plain_text(150),
            "initial_value": string(),
            "focus_on_load": boolean,
        }
    ),
    "number_input": object_with(
        {
            **_COMMON_INTERACTIVE,
            "is_decimal_allowed": boolean,
            "placeholder": plain_text(150),
            "initial_value": string(),
            "min_value": string(),
            "max_value": string(),
            "focus_on_load": boolean,
        },
        ("is_decimal_allowed",),
    ),
    "radio_buttons": _choices(10, "initial_option"),
    "checkboxes": _choices(10, "initial_options"),
    "overflow": _overflow,
    "datepicker": object_with(
        {
            **_COMMON_INTERACTIVE,
            "placeholder": plain_text(150),
            "initial_date": _DATE,
            "confirm": confirm_dialog,
            "focus_on_load": boolean,
        }
    ),
    "timepicker": object_with(
        {
            **_COMMON_INTERACTIVE,
            "placeholder": plain_text(150),
            "initial_time": _TIME,
            "confirm": confirm_dialog,
            "focus_on_load": boolean,
            "timezone": string(),
        }
    ),
    "image": image_element,
}

_SELECTS = {
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
}
ACTION_ELEMENTS = frozenset(
    {"button", "checkboxes", "datepicker", "overflow", "radio_buttons", "timepicker"} | _SELECTS
)
ACCESSORY_ELEMENTS = ACTION_ELEMENTS | {"image"}
INPUT_ELEMENTS = frozenset(
    {
        "checkboxes",
        "datepicker",
        "plain_text_input",
        "radio_buttons",
        "timepicker",
        "email_text_input",
        "url_text_input",
        "number_input",
    }
    | _SELECTS
)


def element_of(allowed: frozenset[str]) -> Check:
    def check(v: Validator, value: Any, ptr: str) -> None:
        if not isinstance(value, dict):
            v.err("must be an object", ptr)
            return
        kind = value.get("type")
        if kind not in ELEMENTS:
            v.err(f"unsupported type: {kind}", f"{ptr}/type")
        elif kind not in allowed:
            v.err(f"element type {kind} is not allowed here", f"{ptr}/type")
        else:
            ELEMENTS[kind](v, value, ptr)

    return check


def context_element(v: Validator, value: Any, ptr: str) -> None:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "image":
        image_element(v, value, ptr)
    else:
        text_object(3000)(v, value, ptr)
