"""The person-like test API: clicking by visible text, picking, filling inputs by label, modals' life."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from slack_sandbox import AmbiguousError, ClientSideError, NotFoundError, SlackSandbox
from tests.sandbox.conftest import AppUnderTest, block_button, plain

Serve = Callable[[Callable[[Request], Awaitable[Response]]], Awaitable[AppUnderTest]]


class App:
    """Records interaction payloads; answers view submissions with ``view_answer``."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.view_answer: dict[str, Any] | None = None

    async def handle(self, req: Request) -> Response:
        body = (await req.body()).decode()
        if req.headers["content-type"].startswith("application/json"):
            self.payloads.append(json.loads(body))
            return Response()
        form = {k: v[0] for k, v in parse_qs(body).items()}
        payload = json.loads(form["payload"]) if "payload" in form else form
        self.payloads.append(payload)
        if payload.get("type") == "view_submission" and self.view_answer is not None:
            return JSONResponse(self.view_answer)
        return Response()

    @property
    def last(self) -> dict[str, Any]:
        return self.payloads[-1]


@pytest.fixture
async def app(sb: SlackSandbox, serve: Serve) -> App:
    recorder = App()
    sb.request_url = (await serve(recorder.handle)).url
    return recorder


def options(*texts: str) -> list[dict[str, Any]]:
    return [{"text": plain(t), "value": t.lower()} for t in texts]


FORM = {
    "type": "modal",
    "callback_id": "handoff",
    "title": plain("Hand off"),
    "submit": plain("Send"),
    "notify_on_close": True,
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": plain("Summary"),
            "element": {"type": "plain_text_input", "action_id": "v", "min_length": 3},
        },
        {
            "type": "input",
            "block_id": "sev",
            "label": plain("Severity"),
            "element": {"type": "static_select", "action_id": "v", "options": options("SEV1", "SEV2")},
        },
        {
            "type": "input",
            "block_id": "who",
            "label": plain("Owner"),
            "element": {"type": "users_select", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "where",
            "label": plain("Channel"),
            "optional": True,
            "element": {"type": "conversations_select", "action_id": "v", "response_url_enabled": True},
        },
        {
            "type": "input",
            "block_id": "impact",
            "label": plain("Impact"),
            "element": {"type": "radio_buttons", "action_id": "v", "options": options("Low", "High")},
        },
        {
            "type": "input",
            "block_id": "checks",
            "label": plain("Checks"),
            "optional": True,
            "element": {"type": "checkboxes", "action_id": "v", "options": options("Logs", "Metrics")},
        },
        {
            "type": "input",
            "block_id": "due",
            "label": plain("Due"),
            "optional": True,
            "element": {"type": "datepicker", "action_id": "v"},
        },
        {
            "type": "actions",
            "block_id": "act",
            "elements": [{"type": "button", "action_id": "more", "text": plain("More options")}],
        },
    ],
}


def open_form(sb: SlackSandbox, web: WebClient, user: Any, **over: Any) -> dict[str, Any]:
    return dict(web.views_open(trigger_id=sb.trigger_id(user), view={**FORM, **over})["view"])


async def test_click_button_by_text_in_latest_message(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    ch = sb.add_channel("ops", members=[alice, sb.bot])
    web.chat_postMessage(channel=ch.id, text="old", blocks=[block_button("Confirm", value="old")])
    new = web.chat_postMessage(channel=ch.id, text="new", blocks=[block_button("Confirm", value="new")])
    ack = await sb.click(alice, "Confirm", channel=ch.id)
    assert ack is not None
    assert ack.ok
    payload = app.last
    assert payload["type"] == "block_actions"
    assert payload["actions"][0]["value"] == "new"
    assert payload["container"] == {
        "type": "message",
        "message_ts": new["ts"],
        "channel_id": ch.id,
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == new["ts"]
    assert payload["response_url"].startswith(sb.base_url)
    await sb.click(alice, "confirm", message_ts=web.conversations_history(channel=ch.id)["messages"][1]["ts"])
    assert app.last["actions"][0]["value"] == "old"  # exact text, then case-insensitive


async def test_click_errors_say_what_is_visible(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    ch = sb.add_channel("ops", members=[alice, sb.bot])
    web.chat_postMessage(
        channel=ch.id,
        text="x",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": plain("Go"), "action_id": "a"},
                    {"type": "button", "text": plain("Go"), "action_id": "b"},
                ],
            }
        ],
    )
    with pytest.raises(NotFoundError, match="button 'Go'"):
        await sb.click(alice, "Stop")
    with pytest.raises(AmbiguousError):
        await sb.click(alice, "Go")
    await sb.click(alice, "Go", action_id="b")
    assert app.last["actions"][0]["action_id"] == "b"


async def test_confirm_dialog_can_be_cancelled(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    ch = sb.add_channel("ops", members=[alice, sb.bot])
    dialog = {"title": plain("Sure?"), "text": plain("Really"), "confirm": plain("Yes"), "deny": plain("No")}
    web.chat_postMessage(channel=ch.id, text="x", blocks=[block_button("Delete", confirm=dialog)])
    assert await sb.click(alice, "Delete", confirm=False) is None
    assert app.payloads == []
    assert await sb.click(alice, "Delete") is not None


async def test_menus_in_messages(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice, bob = sb.add_user("alice"), sb.add_user("bob")
    ch = sb.add_channel("ops", members=[alice, sb.bot])
    web.chat_postMessage(
        channel=ch.id,
        text="x",
        blocks=[
            {
                "type": "actions",
                "block_id": "menus",
                "elements": [
                    {"type": "overflow", "action_id": "more", "options": options("Escalate", "Snooze")},
                    {
                        "type": "static_select",
                        "action_id": "sev",
                        "placeholder": plain("Severity"),
                        "options": options("SEV1", "SEV2"),
                    },
                    {"type": "users_select", "action_id": "owner", "placeholder": plain("Owner")},
                    {"type": "datepicker", "action_id": "due", "placeholder": plain("Due")},
                ],
            }
        ],
    )
    await sb.click(alice, "Snooze")
    assert app.last["actions"][0]["selected_option"] == {"text": plain("Snooze"), "value": "snooze"}
    await sb.click(alice, "SEV2")
    assert app.last["actions"][0]["selected_option"]["value"] == "sev2"
    assert app.last["state"]["values"]["menus"]["sev"]["selected_option"]["value"] == "sev2"
    await sb.select(alice, "Owner", bob)
    assert app.last["actions"][0]["selected_user"] == bob.id
    assert app.last["state"]["values"]["menus"]["sev"]["selected_option"]["value"] == "sev2"  # remembered
    await sb.select(alice, "due", dt.date(2024, 5, 1))
    assert app.last["actions"][0]["selected_date"] == "2024-05-01"


async def test_ephemeral_buttons(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    ch = sb.add_channel("ops", members=[alice, sb.bot])
    web.chat_postEphemeral(channel=ch.id, user=alice.id, text="x", blocks=[block_button("Only me")])
    await sb.click(alice, "Only me")
    assert app.last["container"]["is_ephemeral"] is True
    assert "message" not in app.last


async def test_submit_view_fills_inputs_by_label(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice, bob = sb.add_user("alice"), sb.add_user("bob")
    ops = sb.add_channel("ops", members=[alice, sb.bot])
    open_form(sb, web, alice)
    ack = await sb.submit_view(
        alice,
        "Hand off",
        {
            "Summary": "db slow",
            "Severity": "SEV2",
            "Owner": bob,
            "Channel": ops,
            "Impact": "High",
            "Checks": ["Logs", "Metrics"],
            "Due": dt.date(2024, 5, 1),
        },
    )
    assert ack.ok
    payload = app.last
    assert payload["type"] == "view_submission"
    values = payload["view"]["state"]["values"]
    assert values["summary"]["v"] == {"type": "plain_text_input", "value": "db slow"}
    assert values["sev"]["v"]["selected_option"]["value"] == "sev2"
    assert values["who"]["v"]["selected_user"] == bob.id
    assert values["where"]["v"]["selected_conversation"] == ops.id
    assert values["impact"]["v"]["selected_option"]["value"] == "high"
    assert [o["value"] for o in values["checks"]["v"]["selected_options"]] == ["logs", "metrics"]
    assert values["due"]["v"]["selected_date"] == "2024-05-01"
    assert payload["response_urls"][0]["channel_id"] == ops.id
    assert sb.open_views(alice) == []  # an empty ack closes the modal


async def test_client_side_checks_before_submitting(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    open_form(sb, web, alice)
    with pytest.raises(ClientSideError, match="'Severity' is required"):
        await sb.submit_view(alice, values={"Summary": "abc", "Owner": alice, "Impact": "Low"})
    with pytest.raises(ClientSideError, match="at least 3"):
        await sb.submit_view(alice, values={"Summary": "ab", "Severity": "SEV1"})
    with pytest.raises(NotFoundError, match="no option 'SEV9'"):
        await sb.submit_view(alice, values={"Severity": "SEV9"})
    with pytest.raises(NotFoundError, match="no input labelled 'Colour'"):
        await sb.submit_view(alice, values={"Colour": "red"})
    assert app.payloads == []


async def test_click_inside_a_modal_carries_its_state(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    view = open_form(sb, web, alice)
    await sb.fill(alice, {"Summary": "typed so far"})
    await sb.click(alice, "More options")
    payload = app.last
    assert payload["container"] == {"type": "view", "view_id": view["id"]}
    assert payload["view"]["state"]["values"]["summary"]["v"]["value"] == "typed so far"
    pushed = web.views_push(trigger_id=payload["trigger_id"], view={**FORM, "title": plain("More")})
    assert pushed["view"]["previous_view_id"] == view["id"]
    assert [v.title for v in sb.open_views(alice)] == ["Hand off", "More"]


async def test_response_action_errors_update_push_clear(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    filled = {"Summary": "abc", "Severity": "SEV1", "Owner": alice, "Impact": "Low"}
    open_form(sb, web, alice)

    app.view_answer = {"response_action": "errors", "errors": {"summary": "Be more specific"}}
    ack = await sb.submit_view(alice, values=filled)
    assert ack.response_action == "errors"
    assert ack.errors == {"summary": "Be more specific"}
    assert len(sb.open_views(alice)) == 1

    app.view_answer = {"response_action": "update", "view": {**FORM, "title": plain("Updated")}}
    await sb.submit_view(alice, values=filled)
    assert [v.title for v in sb.open_views(alice)] == ["Updated"]

    app.view_answer = {"response_action": "push", "view": {**FORM, "title": plain("Step 2")}}
    await sb.submit_view(alice, values=filled)
    assert [v.title for v in sb.open_views(alice)] == ["Updated", "Step 2"]

    app.view_answer = None
    await sb.submit_view(alice, values=filled)
    assert [v.title for v in sb.open_views(alice)] == ["Updated"]  # an empty ack closes just this view

    app.view_answer = {"response_action": "clear"}
    await sb.submit_view(alice, values=filled)
    assert sb.open_views(alice) == []
    sb.assert_no_violations()


async def test_bad_response_action_is_a_violation(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    open_form(sb, web, alice)
    app.view_answer = {"response_action": "errors", "errors": {"act": "not an input"}}
    await sb.submit_view(
        alice, values={"Summary": "abc", "Severity": "SEV1", "Owner": alice, "Impact": "Low"}
    )
    assert [v.kind for v in sb.violations] == ["invalid_view_ack"]


async def test_close_view_sends_view_closed(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    view = open_form(sb, web, alice)
    ack = await sb.close_view(alice, "handoff")
    assert ack is not None
    assert app.last["type"] == "view_closed"
    assert app.last["view"]["id"] == view["id"]
    assert app.last["is_cleared"] is False
    open_form(sb, web, alice, notify_on_close=False)
    assert await sb.close_view(alice) is None


async def test_home_tab(sb: SlackSandbox, web: WebClient, app: App) -> None:
    alice = sb.add_user("alice")
    web.views_publish(user_id=alice.id, view={"type": "home", "blocks": [block_button("Refresh")]})
    await sb.open_home(alice)
    assert app.last["event"]["type"] == "app_home_opened"
    assert app.last["event"]["view"]["type"] == "home"
    await sb.click(alice, "Refresh")
    assert app.last["container"]["type"] == "view"
    assert sb.home_view(alice) is not None


async def test_say_mention_and_join(sb: SlackSandbox, app: App) -> None:
    sb.event_subscriptions.update({"message", "member_joined_channel"})
    alice, bob = sb.add_user("alice"), sb.add_user("bob")
    room = sb.add_channel("room", members=[alice, sb.bot])
    lonely = sb.add_channel("lonely", members=[alice])
    await sb.say(alice, lonely, f"<@{sb.bot_user_id}> are you there?")
    assert app.payloads == []  # the bot is not in the channel, so Slack sends nothing
    msg = await sb.mention(alice, room, "status?")
    assert [p["event"]["type"] for p in app.payloads] == ["message", "app_mention"]
    assert app.last["event"]["ts"] == msg.ts
    await sb.join(bob, room)
    assert app.last["event"] == {**app.last["event"], "type": "member_joined_channel", "user": bob.id}
    with pytest.raises(Exception, match="not in #lonely"):
        await sb.say(bob, lonely, "hi")


async def test_slash_command_in_channel_response_and_shortcut(sb: SlackSandbox, serve: Serve) -> None:
    async def handle(req: Request) -> Response:
        return JSONResponse({"response_type": "in_channel", "text": "Incident opened"})

    sb.request_url = (await serve(handle)).url
    alice = sb.add_user("alice")
    ch = sb.add_channel("ops", members=[alice])
    await sb.slash_command(alice, "/incident", "open", channel=ch)
    assert [m.text for m in sb.messages(ch)] == ["Incident opened"]
    assert (await sb.shortcut(alice, "new_incident")).ok
