"""Every Block Kit limit of the reference table: refused with a json-pointer, next to an accepted control."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_sandbox import SlackSandbox, check_message_blocks
from slack_sandbox.blockkit import BlockKitError

JSONList = list[dict[str, Any]]


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def section(n: int = 1) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "x" * n}}


def button(text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": extra.pop("action_id", "go"), **extra}


def actions(*elements: dict[str, Any]) -> JSONList:
    return [{"type": "actions", "elements": list(elements)}]


def options(n: int, text_len: int | None = None, value_len: int | None = None) -> list[dict[str, Any]]:
    """``n`` options; ``text_len``/``value_len`` pad the text/value to an exact length."""
    return [
        {
            "text": plain(f"opt{i}".ljust(text_len, "t") if text_len else f"opt{i}"),
            "value": f"v{i}".ljust(value_len, "v") if value_len else f"v{i}",
        }
        for i in range(n)
    ]


def confirm(title: int = 5, text: int = 5, yes: int = 3, no: int = 3) -> dict[str, Any]:
    return {
        "title": plain("t" * title),
        "text": plain("x" * text),
        "confirm": plain("y" * yes),
        "deny": plain("n" * no),
    }


def select(kind: str, opts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": kind, "action_id": "pick", "options": opts}


# (name, accepted blocks, refused blocks, json-pointer, message)
MESSAGE_CASES: list[tuple[str, JSONList, JSONList, str, str]] = [
    ("blocks in a message", [section()] * 50, [section()] * 51, "/blocks", "no more than 50 items allowed"),
    (
        "section text",
        [section(3000)],
        [section(3001)],
        "/blocks/0/text/text",
        "must be less than 3001 characters",
    ),
    (
        "section fields count",
        [{"type": "section", "fields": [plain("f")] * 10}],
        [{"type": "section", "fields": [plain("f")] * 11}],
        "/blocks/0/fields",
        "no more than 10 items allowed",
    ),
    (
        "section field length",
        [{"type": "section", "fields": [plain("f" * 2000)]}],
        [{"type": "section", "fields": [plain("f" * 2001)]}],
        "/blocks/0/fields/0/text",
        "must be less than 2001 characters",
    ),
    (
        "header text",
        [{"type": "header", "text": plain("h" * 150)}],
        [{"type": "header", "text": plain("h" * 151)}],
        "/blocks/0/text/text",
        "must be less than 151 characters",
    ),
    (
        "context elements",
        [{"type": "context", "elements": [plain("c")] * 10}],
        [{"type": "context", "elements": [plain("c")] * 11}],
        "/blocks/0/elements",
        "no more than 10 items allowed",
    ),
    (
        "actions elements",
        actions(*[button(action_id=f"a{i}") for i in range(25)]),
        actions(*[button(action_id=f"a{i}") for i in range(26)]),
        "/blocks/0/elements",
        "no more than 25 items allowed",
    ),
    (
        "button text",
        actions(button("b" * 75)),
        actions(button("b" * 76)),
        "/blocks/0/elements/0/text/text",
        "must be less than 76 characters",
    ),
    (
        "button value",
        actions(button(value="v" * 2000)),
        actions(button(value="v" * 2001)),
        "/blocks/0/elements/0/value",
        "must be less than 2001 characters",
    ),
    (
        "button url",
        actions(button(url="u" * 3000)),
        actions(button(url="u" * 3001)),
        "/blocks/0/elements/0/url",
        "must be less than 3001 characters",
    ),
    (
        "option text",
        actions(select("static_select", options(1, text_len=75))),
        actions(select("static_select", options(1, text_len=76))),
        "/blocks/0/elements/0/options/0/text/text",
        "must be less than 76 characters",
    ),
    (
        "option value",
        actions(select("static_select", options(1, value_len=150))),
        actions(select("static_select", options(1, value_len=151))),
        "/blocks/0/elements/0/options/0/value",
        "must be less than 151 characters",
    ),
    (
        "checkbox options",
        actions(select("checkboxes", options(10))),
        actions(select("checkboxes", options(11))),
        "/blocks/0/elements/0/options",
        "no more than 10 items allowed",
    ),
    (
        "radio options",
        actions(select("radio_buttons", options(10))),
        actions(select("radio_buttons", options(11))),
        "/blocks/0/elements/0/options",
        "no more than 10 items allowed",
    ),
    (
        "static select options",
        actions(select("static_select", options(100))),
        actions(select("static_select", options(101))),
        "/blocks/0/elements/0/options",
        "no more than 100 items allowed",
    ),
    (
        "overflow at most 5",
        actions(select("overflow", options(5))),
        actions(select("overflow", options(6))),
        "/blocks/0/elements/0/options",
        "no more than 5 items allowed",
    ),
    (
        "overflow at least 2",
        actions(select("overflow", options(2))),
        actions(select("overflow", options(1))),
        "/blocks/0/elements/0/options",
        "must contain at least 2 items",
    ),
    (
        "action_id",
        actions(button(action_id="a" * 255)),
        actions(button(action_id="a" * 256)),
        "/blocks/0/elements/0/action_id",
        "must be less than 256 characters",
    ),
    (
        "block_id",
        [dict(section(), block_id="b" * 255)],
        [dict(section(), block_id="b" * 256)],
        "/blocks/0/block_id",
        "must be less than 256 characters",
    ),
    (
        "confirm title",
        actions(button(confirm=confirm(title=100))),
        actions(button(confirm=confirm(title=101))),
        "/blocks/0/elements/0/confirm/title/text",
        "must be less than 101 characters",
    ),
    (
        "confirm text",
        actions(button(confirm=confirm(text=300))),
        actions(button(confirm=confirm(text=301))),
        "/blocks/0/elements/0/confirm/text/text",
        "must be less than 301 characters",
    ),
    (
        "confirm button",
        actions(button(confirm=confirm(yes=30))),
        actions(button(confirm=confirm(yes=31))),
        "/blocks/0/elements/0/confirm/confirm/text",
        "must be less than 31 characters",
    ),
    (
        "deny button",
        actions(button(confirm=confirm(no=30))),
        actions(button(confirm=confirm(no=31))),
        "/blocks/0/elements/0/confirm/deny/text",
        "must be less than 31 characters",
    ),
    (
        "unknown block type",
        [{"type": "divider"}],
        [{"type": "carousel"}],
        "/blocks/0/type",
        "unsupported type: carousel",
    ),
    (
        "unknown element type",
        actions(button()),
        actions({"type": "slider", "action_id": "s"}),
        "/blocks/0/elements/0/type",
        "unsupported type: slider",
    ),
    (
        "unknown field",
        [section()],
        [dict(section(), colour="red")],
        "/blocks/0/colour",
        "invalid additional property: colour",
    ),
    (
        "unknown field in element",
        actions(button()),
        actions(button(size="xl")),
        "/blocks/0/elements/0/size",
        "invalid additional property: size",
    ),
    (
        "element not allowed here",
        [dict(section(), accessory=button())],
        [dict(section(), accessory={"type": "plain_text_input", "action_id": "t"})],
        "/blocks/0/accessory/type",
        "element type plain_text_input is not allowed here",
    ),
    (
        "duplicate block_id",
        [dict(section(), block_id="a"), dict(section(), block_id="b")],
        [dict(section(), block_id="a"), dict(section(), block_id="a")],
        "/blocks/1/block_id",
        "duplicate block_id: a",
    ),
]


def as_dict(data: Any) -> dict[str, Any]:
    assert isinstance(data, dict)
    return data


def _post(web: WebClient, channel: str, blocks: JSONList) -> dict[str, Any]:
    try:
        return as_dict(web.chat_postMessage(channel=channel, text="fallback", blocks=blocks).data)
    except SlackApiError as err:
        return as_dict(err.response.data)


@pytest.mark.parametrize(
    ("name", "good", "bad", "pointer", "message"), MESSAGE_CASES, ids=[c[0] for c in MESSAGE_CASES]
)
def test_message_block_limit(
    sb: SlackSandbox, web: WebClient, name: str, good: JSONList, bad: JSONList, pointer: str, message: str
) -> None:
    ch = sb.add_channel("blocks", members=[sb.bot])
    assert _post(web, ch.id, good)["ok"], name
    refused = _post(web, ch.id, bad)
    assert refused["error"] == "invalid_blocks"
    assert f"[ERROR] {message} [json-pointer:{pointer}]" in refused["response_metadata"]["messages"]
    assert len(sb.messages(ch)) == 1
    assert sb.violations[-1].kind == "invalid_blocks"


@pytest.mark.parametrize("method", ["chat_update", "chat_postEphemeral"])
def test_blocks_checked_on_update_and_ephemeral(sb: SlackSandbox, web: WebClient, method: str) -> None:
    alice = sb.add_user("alice")
    ch = sb.add_channel("more", members=[sb.bot, alice])
    ts = web.chat_postMessage(channel=ch.id, text="x")["ts"]
    extra = {"ts": ts} if method == "chat_update" else {"user": alice.id}
    with pytest.raises(SlackApiError) as err:
        getattr(web, method)(channel=ch.id, text="y", blocks=[section(3001)], **extra)
    assert err.value.response["error"] == "invalid_blocks"
    assert getattr(web, method)(channel=ch.id, text="y", blocks=[section(3000)], **extra)["ok"]


def test_blocks_not_json(sb: SlackSandbox, web: WebClient) -> None:
    ch = sb.add_channel("fmt", members=[sb.bot])
    with pytest.raises(SlackApiError) as err:
        web.api_call("chat.postMessage", params={"channel": ch.id, "blocks": "[{oops"})
    assert err.value.response["error"] == "invalid_blocks_format"


def test_block_ids_are_filled_in_as_slack_does(sb: SlackSandbox, web: WebClient) -> None:
    ch = sb.add_channel("ids", members=[sb.bot])
    answer = web.chat_postMessage(channel=ch.id, text="x", blocks=[section(), actions(button())[0]])
    assert all(b.get("block_id") for b in answer["message"]["blocks"])


# ---- views ------------------------------------------------------------------------------------------
def modal(**over: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Title"), "blocks": [section()], **over}


def home(**over: Any) -> dict[str, Any]:
    return {"type": "home", "blocks": [section()], **over}


VIEW_CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    (
        "blocks in a modal",
        modal(blocks=[section()] * 100),
        modal(blocks=[section()] * 101),
        "/view/blocks",
        "no more than 100 items allowed",
    ),
    (
        "blocks in App Home",
        home(blocks=[section()] * 100),
        home(blocks=[section()] * 101),
        "/view/blocks",
        "no more than 100 items allowed",
    ),
    (
        "modal title",
        modal(title=plain("t" * 24)),
        modal(title=plain("t" * 25)),
        "/view/title/text",
        "must be less than 25 characters",
    ),
    (
        "modal submit",
        modal(submit=plain("s" * 24)),
        modal(submit=plain("s" * 25)),
        "/view/submit/text",
        "must be less than 25 characters",
    ),
    (
        "modal close",
        modal(close=plain("c" * 24)),
        modal(close=plain("c" * 25)),
        "/view/close/text",
        "must be less than 25 characters",
    ),
    (
        "private_metadata",
        modal(private_metadata="m" * 3000),
        modal(private_metadata="m" * 3001),
        "/view/private_metadata",
        "must be less than 3001 characters",
    ),
    (
        "callback_id",
        modal(callback_id="c" * 255),
        modal(callback_id="c" * 256),
        "/view/callback_id",
        "must be less than 256 characters",
    ),
    (
        "external_id",
        home(external_id="e" * 255),
        home(external_id="e" * 256),
        "/view/external_id",
        "must be less than 256 characters",
    ),
    ("unknown view field", modal(), modal(theme="dark"), "/view/theme", "invalid additional property: theme"),
    (
        "submit needed with inputs",
        modal(
            submit=plain("Save"),
            blocks=[
                {
                    "type": "input",
                    "label": plain("L"),
                    "element": {"type": "plain_text_input", "action_id": "t"},
                }
            ],
        ),
        modal(
            blocks=[
                {
                    "type": "input",
                    "label": plain("L"),
                    "element": {"type": "plain_text_input", "action_id": "t"},
                }
            ]
        ),
        "/view",
        "must provide submit when the view has input blocks",
    ),
    ("view type", home(), home(type="workflow_step"), "/view/type", "must be one of:"),
]


def _open(sb: SlackSandbox, web: WebClient, user: str, view: dict[str, Any]) -> dict[str, Any]:
    try:
        if view["type"] == "modal":
            return as_dict(web.views_open(trigger_id=sb.trigger_id(user), view=view).data)
        return as_dict(web.views_publish(user_id=user, view=view).data)
    except SlackApiError as err:
        return as_dict(err.response.data)


@pytest.mark.parametrize(
    ("name", "good", "bad", "pointer", "message"), VIEW_CASES, ids=[c[0] for c in VIEW_CASES]
)
def test_view_limit(
    sb: SlackSandbox,
    web: WebClient,
    name: str,
    good: dict[str, Any],
    bad: dict[str, Any],
    pointer: str,
    message: str,
) -> None:
    alice = sb.add_user("alice")
    assert _open(sb, web, alice.id, good)["ok"], name
    refused = _open(sb, web, alice.id, bad)
    # views.* document no code for a malformed view; the common "invalid_form_data" carries the pointer.
    assert refused["error"] == "invalid_form_data"
    assert any(
        m.startswith(f"[ERROR] {message}") and m.endswith(f"[json-pointer:{pointer}]")
        for m in refused["response_metadata"]["messages"]
    ), refused


def test_view_whole_size_250kb(sb: SlackSandbox, web: WebClient) -> None:
    alice = sb.add_user("alice")
    assert _open(sb, web, alice.id, home(blocks=[section(3000)] * 70))["ok"]
    assert _open(sb, web, alice.id, home(blocks=[section(3000)] * 90))["error"] == "view_too_large"


def test_the_checker_collects_every_problem() -> None:
    with pytest.raises(BlockKitError) as err:
        check_message_blocks([section(3001), {"type": "header", "text": plain("h" * 151)}])
    assert err.value.messages == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/1/text/text]",
    ]


def test_supported_elements_pass(sb: SlackSandbox, web: WebClient) -> None:
    alice = sb.add_user("alice")
    opts = options(3)
    blocks: JSONList = [
        {"type": "header", "text": plain("Incident")},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*x*", "verbatim": True},
            "fields": [plain("a")],
            "accessory": {"type": "overflow", "action_id": "o", "options": opts[:2]},
        },
        {"type": "divider"},
        {
            "type": "context",
            "elements": [
                {"type": "image", "image_url": "https://x/i.png", "alt_text": "i"},
                {"type": "plain_text", "text": "ctx", "emoji": True},
            ],
        },
        {"type": "image", "image_url": "https://x/i.png", "alt_text": "graph", "title": plain("Graph")},
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "hi", "style": {"bold": True}},
                        {"type": "user", "user_id": alice.id},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]}
                    ],
                },
            ],
        },
        {
            "type": "actions",
            "elements": [
                button("Ack", style="primary", confirm=confirm()),
                {
                    "type": "static_select",
                    "action_id": "s",
                    "placeholder": plain("Sev"),
                    "option_groups": [{"label": plain("g"), "options": opts}],
                    "initial_option": opts[0],
                },
                {"type": "multi_static_select", "action_id": "m", "options": opts, "max_selected_items": 2},
                {"type": "users_select", "action_id": "u", "initial_user": alice.id},
                {"type": "multi_users_select", "action_id": "mu"},
                {"type": "conversations_select", "action_id": "c", "filter": {"include": ["public"]}},
                {"type": "channels_select", "action_id": "ch"},
                {"type": "datepicker", "action_id": "d", "initial_date": "2024-05-01"},
                {"type": "radio_buttons", "action_id": "r", "options": opts, "initial_option": opts[1]},
                {"type": "checkboxes", "action_id": "cb", "options": opts, "initial_options": [opts[2]]},
            ],
        },
        {
            "type": "input",
            "label": plain("Why"),
            "optional": True,
            "hint": plain("h"),
            "element": {"type": "plain_text_input", "action_id": "why", "multiline": True, "max_length": 300},
        },
    ]
    check_message_blocks(blocks)
    view = {
        "type": "modal",
        "title": plain("T"),
        "submit": plain("Go"),
        "close": plain("No"),
        "blocks": blocks,
        "private_metadata": "p",
        "callback_id": "cb",
        "external_id": "ext",
        "clear_on_close": True,
        "notify_on_close": True,
    }
    assert web.views_open(trigger_id=sb.trigger_id(alice), view=view)["ok"]
    assert web.views_publish(user_id=alice.id, view={"type": "home", "blocks": blocks})["ok"]


def test_initial_option_must_be_an_option() -> None:
    opts = options(2)
    bad = {"text": plain("zz"), "value": "nope"}
    with pytest.raises(BlockKitError) as err:
        check_message_blocks(
            actions({"type": "static_select", "action_id": "s", "options": opts, "initial_option": bad})
        )
    assert err.value.problems[0].pointer == "/blocks/0/elements/0/initial_option"
