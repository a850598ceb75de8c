"""The live page's server side, without a browser: the page and its assets, the state it draws, and
``POST /_sandbox/act`` acting as a person (off by default, validated, and reaching the app signed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from slack_sandbox import SandboxConfig, SlackSandbox
from tests.sandbox.conftest import SECRET, AppUnderTest, block_button, plain, section

Serve = Callable[[Callable[[Request], Awaitable[Response]]], Awaitable[AppUnderTest]]


class SignedApp:
    """Checks every request's Slack signature and records the interaction payloads."""

    def __init__(self) -> None:
        self.verifier = SignatureVerifier(SECRET)
        self.payloads: list[dict[str, Any]] = []
        self.view_answer: dict[str, Any] | None = None

    async def handle(self, req: Request) -> Response:
        raw = await req.body()
        assert self.verifier.is_valid_request(raw, dict(req.headers)), "unsigned request"
        payload = json.loads(parse_qs(raw.decode())["payload"][0])
        self.payloads.append(payload)
        if payload["type"] == "view_submission" and self.view_answer is not None:
            return JSONResponse(self.view_answer)
        return Response()


@pytest.fixture
async def app(sb: SlackSandbox, serve: Serve) -> SignedApp:
    signed = SignedApp()
    sb.request_url = (await serve(signed.handle)).url
    return signed


@pytest.fixture
async def http(sb: SlackSandbox) -> AsyncIterator[httpx.AsyncClient]:
    # Async: the app under test is served in this loop, so a blocking client would starve it.
    async with httpx.AsyncClient(base_url=sb.base_url, timeout=10) as client:
        yield client


def menu_blocks() -> list[dict[str, Any]]:
    return [
        section("*Checklist*"),
        block_button("Set", action_id="set", value="item-1", style="primary"),
        {
            "type": "actions",
            "block_id": "pickers",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "status",
                    "placeholder": plain("Status"),
                    "options": [
                        {"text": plain("OK"), "value": "ok"},
                        {"text": plain("Stale"), "value": "stale"},
                    ],
                },
                {"type": "users_select", "action_id": "owner", "placeholder": plain("Owner")},
            ],
        },
    ]


MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "item",
    "title": plain("Checklist item"),
    "submit": plain("Save"),
    "close": plain("Cancel"),
    "notify_on_close": True,
    "blocks": [
        {
            "type": "input",
            "block_id": "note",
            "label": plain("Note"),
            "element": {"type": "plain_text_input", "action_id": "note", "multiline": True},
        },
        {
            "type": "input",
            "block_id": "owner",
            "label": plain("Owner"),
            "element": {"type": "users_select", "action_id": "owner"},
        },
        {
            "type": "input",
            "block_id": "checks",
            "optional": True,
            "label": plain("Checks"),
            "element": {
                "type": "checkboxes",
                "action_id": "checks",
                "options": [
                    {"text": plain("Freshness"), "value": "fresh"},
                    {"text": plain("Volume"), "value": "volume"},
                ],
            },
        },
    ],
}


def post(sb: SlackSandbox, channel: str, blocks: list[dict[str, Any]], **extra: Any) -> str:
    web = WebClient(token=sb.bot_token, base_url=sb.api_url)
    return str(web.chat_postMessage(channel=channel, text="Checklist", blocks=blocks, **extra)["ts"])


def workspace(sb: SlackSandbox) -> tuple[str, str, str]:
    alice = sb.add_user("alice", real_name="Alice Ops").id
    bob = sb.add_user("bob").id
    ops = sb.add_channel("ops", members=[alice, bob, sb.bot], topic="Stale features").id
    return alice, bob, ops


# ---- the page -------------------------------------------------------------------------------------------
async def test_page_and_assets_are_served(sb: SlackSandbox, http: httpx.AsyncClient) -> None:
    root = await http.get("/?as=alice")
    assert root.status_code == 307
    assert root.headers["location"] == "/_sandbox/ui?as=alice"
    page = await http.get("/_sandbox/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/_sandbox/ui/app.js"' in page.text
    assert 'href="/_sandbox/ui/app.css"' in page.text
    js = await http.get("/_sandbox/ui/app.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert "/_sandbox/act" in js.text
    assert "innerHTML" not in js.text  # text goes in as text nodes only
    css = await http.get("/_sandbox/ui/app.css")
    assert css.headers["content-type"].startswith("text/css")
    assert (await http.get("/_sandbox/ui/secrets.py")).status_code == 404


async def test_state_holds_what_the_page_draws(sb: SlackSandbox, http: httpx.AsyncClient) -> None:
    alice, _bob, ops = workspace(sb)
    ts = post(sb, ops, menu_blocks())
    web = WebClient(token=sb.bot_token, base_url=sb.api_url)
    web.pins_add(channel=ops, timestamp=ts)
    web.chat_postMessage(channel=ops, text="first reply", thread_ts=ts)
    web.chat_postEphemeral(channel=ops, user=alice, text="only for alice")
    web.views_open(trigger_id=sb.trigger_id(alice), view=MODAL)

    state = (await http.get("/_sandbox/state")).json()
    assert state["web_actions"] is False
    assert state["bot_user_id"] == sb.bot_user_id
    people = {u["name"]: u for u in state["users"]}
    assert people["alice"]["real_name"] == "Alice Ops"
    assert people["alice"]["is_bot"] is False
    assert people["handoff"]["is_bot"] is True
    channel = next(c for c in state["channels"] if c["id"] == ops)
    assert channel["name"] == "ops"
    assert channel["is_private"] is False
    assert channel["topic"]["value"] == "Stale features"
    assert sb.bot_user_id in channel["members"]
    card = next(m for m in channel["messages"] if m["ts"] == ts)
    assert card["pinned"] is True
    assert card["blocks"][1]["elements"][0]["action_id"] == "set"
    assert card["thread_ts"] == ts
    reply = next(m for m in channel["messages"] if m["text"] == "first reply")
    assert reply["thread_ts"] == ts
    assert state["ephemerals"] == [
        {
            "ts": state["ephemerals"][0]["ts"],
            "user": alice,
            "channel": ops,
            "text": "only for alice",
            "thread_ts": None,
            "blocks": [],
        }
    ]
    [modal] = state["modals"][alice]
    assert modal["title"] == "Checklist item"
    assert modal["submit"]["text"] == "Save"
    assert [b["block_id"] for b in modal["blocks"]] == ["note", "owner", "checks"]

    # The version changes exactly when something shown changes.
    again = (await http.get("/_sandbox/state")).json()
    assert again["version"] == state["version"]
    web.chat_postMessage(channel=ops, text="news")
    assert (await http.get("/_sandbox/state")).json()["version"] != state["version"]
    sb.configure(web_actions=True)
    assert (await http.get("/_sandbox/state")).json()["web_actions"] is True


# ---- acting ----------------------------------------------------------------------------------------------
async def test_act_is_refused_when_interactive_mode_is_off(
    sb: SlackSandbox, app: SignedApp, http: httpx.AsyncClient
) -> None:
    alice, _bob, ops = workspace(sb)
    ts = post(sb, ops, menu_blocks())
    answer = await http.post(
        "/_sandbox/act",
        json={"user": alice, "kind": "click", "channel": ops, "message_ts": ts, "action_id": "set"},
    )
    assert answer.status_code == 403
    assert "web_actions=True" in answer.json()["error"]
    assert app.payloads == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "click"}, "user is required"),
        ({"user": "mallory", "kind": "click", "action_id": "set"}, "no user 'mallory'"),
        ({"user": "handoff", "kind": "click", "action_id": "set"}, "not a person"),
        ({"user": "alice", "kind": "dance"}, "kind must be one of"),
        ({"user": "alice", "kind": "click", "action_id": "set"}, "say where"),
        (
            {"user": "alice", "kind": "click", "channel": "ops", "message_ts": "TS", "action_id": "nope"},
            "nothing clickable",
        ),
        (
            {"user": "alice", "kind": "click", "channel": "nowhere", "message_ts": "TS", "action_id": "set"},
            "no channel 'nowhere'",
        ),
        ({"user": "alice", "kind": "submit", "view_id": "V404"}, "has no open view"),
        ({"user": "alice", "kind": "submit"}, "view_id is required"),
        ({"user": "alice", "kind": "close", "view_id": 7}, "view_id must be a string"),
    ],
)
async def test_act_refuses_unknown_people_and_targets(
    sb: SlackSandbox, app: SignedApp, http: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    sb.configure(web_actions=True)
    _alice, _bob, ops = workspace(sb)
    ts = post(sb, ops, menu_blocks())
    body = {k: ts if v == "TS" else v for k, v in body.items()}
    answer = await http.post("/_sandbox/act", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["ok"] is False
    assert message in answer.json()["error"]
    assert app.payloads == []


async def test_act_refuses_malformed_bodies(sb: SlackSandbox, http: httpx.AsyncClient) -> None:
    sb.configure(web_actions=True)
    assert (await http.post("/_sandbox/act", content=b"{not json")).status_code == 400
    assert (await http.post("/_sandbox/act", json=["click"])).status_code == 400


async def test_a_click_reaches_the_app_as_signed_block_actions(
    sb: SlackSandbox, app: SignedApp, http: httpx.AsyncClient
) -> None:
    sb.configure(web_actions=True)
    alice, _bob, ops = workspace(sb)
    ts = post(sb, ops, menu_blocks())
    answer = await http.post(
        "/_sandbox/act",
        json={
            "user": "alice",
            "kind": "click",
            "channel": ops,
            "message_ts": ts,
            "action_id": "set",
            "value": "item-1",
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["ack"]["ok"] is True
    [payload] = app.payloads
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == alice
    assert payload["channel"]["id"] == ops
    assert payload["message"]["ts"] == ts
    assert payload["actions"][0]["action_id"] == "set"
    assert payload["actions"][0]["value"] == "item-1"
    assert payload["trigger_id"]
    assert payload["response_url"].startswith(sb.base_url)

    # Menus: an option of a static select (click), a person in a users select (select).
    await http.post(
        "/_sandbox/act",
        json={
            "user": alice,
            "kind": "click",
            "channel": ops,
            "message_ts": ts,
            "block_id": "pickers",
            "action_id": "status",
            "value": "stale",
        },
    )
    assert app.payloads[-1]["actions"][0]["selected_option"]["value"] == "stale"
    bob = sb.user("bob").id
    await http.post(
        "/_sandbox/act",
        json={
            "user": alice,
            "kind": "select",
            "channel": ops,
            "message_ts": ts,
            "action_id": "owner",
            "value": bob,
        },
    )
    assert app.payloads[-1]["actions"][0]["selected_user"] == bob
    sb.assert_no_violations()


async def test_a_click_waits_for_an_app_that_calls_slack_back(
    sb: SlackSandbox, serve: Serve, http: httpx.AsyncClient
) -> None:
    """The act request runs in the stand-in's loop while the app calls views.open on it: no deadlock."""
    sb.configure(web_actions=True)
    alice, _bob, ops = workspace(sb)
    ts = post(sb, ops, menu_blocks())
    web = WebClient(token=sb.bot_token, base_url=sb.api_url)

    async def opens_a_modal(req: Request) -> Response:
        payload = json.loads(parse_qs((await req.body()).decode())["payload"][0])
        async with httpx.AsyncClient() as client:  # the app's Web API call, while Slack waits for the ack
            answer = await client.post(
                f"{sb.api_url}views.open",
                headers={"Authorization": f"Bearer {sb.bot_token}"},
                json={"trigger_id": payload["trigger_id"], "view": MODAL},
            )
        assert answer.json()["ok"], answer.text
        return Response()

    sb.request_url = (await serve(opens_a_modal)).url
    answer = await http.post(
        "/_sandbox/act",
        json={"user": alice, "kind": "click", "channel": ops, "message_ts": ts, "action_id": "set"},
    )
    assert answer.json()["ack"]["ok"] is True
    assert [v.title for v in sb.open_views(alice)] == ["Checklist item"]
    assert web.auth_test()["ok"]  # and the stand-in still answers


async def test_submit_and_close_a_modal_through_act(
    sb: SlackSandbox, app: SignedApp, http: httpx.AsyncClient
) -> None:
    sb.configure(web_actions=True)
    alice, bob, _ops = workspace(sb)
    web = WebClient(token=sb.bot_token, base_url=sb.api_url)
    view_id = web.views_open(trigger_id=sb.trigger_id(alice), view=MODAL)["view"]["id"]

    # Slack's client refuses an empty required input before anything is sent.
    empty = await http.post(
        "/_sandbox/act", json={"user": alice, "kind": "submit", "view_id": view_id, "values": {"note": None}}
    )
    assert empty.status_code == 400
    assert "'Note' is required" in empty.json()["error"]
    assert app.payloads == []

    # The app refuses with response_action errors: the page gets them to show under the inputs.
    app.view_answer = {"response_action": "errors", "errors": {"note": "Say more"}}
    refused = await http.post(
        "/_sandbox/act",
        json={
            "user": alice,
            "kind": "submit",
            "view_id": view_id,
            "values": {"note": "x", "owner": bob, "checks": ["fresh", "volume"]},
        },
    )
    assert refused.json()["ack"]["errors"] == {"note": "Say more"}
    submitted = app.payloads[-1]
    assert submitted["type"] == "view_submission"
    assert submitted["user"]["id"] == alice
    values = submitted["view"]["state"]["values"]
    assert values["note"]["note"]["value"] == "x"
    assert values["owner"]["owner"]["selected_user"] == bob
    assert [o["value"] for o in values["checks"]["checks"]["selected_options"]] == ["fresh", "volume"]
    assert len(sb.open_views(alice)) == 1

    # The person empties the note again: the app sees null, and Slack's client wants it filled.
    emptied = await http.post(
        "/_sandbox/act",
        json={"user": alice, "kind": "submit", "view_id": view_id, "values": {"note": None, "owner": None}},
    )
    assert "'Note' is required" in emptied.json()["error"]
    assert sb.open_views(alice)[0].state["note"]["note"]["value"] is None
    assert sb.open_views(alice)[0].state["owner"]["owner"]["selected_user"] == bob

    # Cancel: view_closed, because the modal asked to be notified.
    closed = await http.post("/_sandbox/act", json={"user": alice, "kind": "close", "view_id": view_id})
    assert closed.json()["ack"]["ok"] is True
    assert app.payloads[-1]["type"] == "view_closed"
    assert sb.open_views(alice) == []
    # Bob cannot act on Alice's modal.
    view_id = web.views_open(trigger_id=sb.trigger_id(alice), view=MODAL)["view"]["id"]
    other = await http.post("/_sandbox/act", json={"user": bob, "kind": "close", "view_id": view_id})
    assert other.status_code == 400


async def test_act_says_when_the_app_is_not_set() -> None:
    sb = SlackSandbox(signing_secret=SECRET, config=SandboxConfig(web_actions=True))
    alice = sb.add_user("alice")
    ops = sb.add_channel("ops", members=[alice, sb.bot])
    async with sb:
        ts = post(sb, ops.id, [block_button("Go", action_id="go")])
        async with httpx.AsyncClient(base_url=sb.base_url) as http:
            answer = await http.post(
                "/_sandbox/act",
                json={
                    "user": "alice",
                    "kind": "click",
                    "channel": "ops",
                    "message_ts": ts,
                    "action_id": "go",
                },
            )
    assert answer.status_code == 400
    assert "request_url is not set" in answer.json()["error"]
    assert sb.internal_errors == []
