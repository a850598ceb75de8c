"""The extra methods an incident bot reaches for (list, open, delete, permalink) and smaller behaviours."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from starlette.requests import Request
from starlette.responses import Response

from slack_sandbox import SlackSandbox
from tests.sandbox.conftest import plain


def test_conversations_list_and_open(sb: SlackSandbox, web: WebClient) -> None:
    alice = sb.add_user("alice")
    sb.add_channel("public-one")
    sb.add_channel("secret", is_private=True)  # the bot is not in it: not listed
    mine = sb.add_channel("mine", is_private=True, members=[sb.bot])
    listed = web.conversations_list(types="public_channel,private_channel")["channels"]
    assert {c["name"] for c in listed} == {"public-one", "mine"}
    with pytest.raises(SlackApiError) as err:
        web.conversations_list(types="everything")
    assert err.value.response["error"] == "invalid_types"
    dm = web.conversations_open(users=[alice.id])["channel"]["id"]
    assert dm == sb.dm(alice).id
    assert web.conversations_info(channel=mine.id)["channel"]["is_private"] is True


def test_delete_and_permalink(sb: SlackSandbox, web: WebClient) -> None:
    ch = sb.add_channel("links", members=[sb.bot])
    ts = web.chat_postMessage(channel=ch.id, text="x")["ts"]
    link = web.chat_getPermalink(channel=ch.id, message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/{ch.id}/p{ts.replace('.', '')}")
    web.chat_delete(channel=ch.id, ts=ts)
    assert sb.messages(ch) == []
    with pytest.raises(SlackApiError) as err:
        web.chat_getPermalink(channel=ch.id, message_ts=ts)
    assert err.value.response["error"] == "message_not_found"


def test_users_list_pages(sb: SlackSandbox, web: WebClient) -> None:
    for i in range(3):
        sb.add_user(f"u{i}")
    first = web.users_list(limit=2)
    rest = web.users_list(limit=2, cursor=first["response_metadata"]["next_cursor"])
    names = [m["name"] for m in first["members"] + rest["members"]]
    assert names == ["handoff", "u0", "u1", "u2"]


def test_home_hash_conflict(sb: SlackSandbox, web: WebClient) -> None:
    alice = sb.add_user("alice")
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    first = web.views_publish(user_id=alice.id, view=home)["view"]
    with pytest.raises(SlackApiError) as err:
        web.views_publish(user_id=alice.id, view=home, hash="0.stale")
    assert err.value.response["error"] == "hash_conflict"
    again = web.views_publish(user_id=alice.id, view=home, hash=first["hash"])["view"]
    assert again["id"] == first["id"]
    with pytest.raises(SlackApiError) as err:
        web.views_publish(user_id="U0NOBODY", view=home)
    assert err.value.response["error"] == "access_denied"


async def test_unreachable_app_is_a_violation_and_retried(sb: SlackSandbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens here
    sb.request_url = f"http://127.0.0.1:{port}/slack/events"
    sb.configure(event_retry_delays=(0, 0, 0))
    delivery = await sb.send_event("app_mention", user="U1", channel="C1", text="hi", wait_retries=True)
    assert len(delivery.attempts) == 4
    assert all(a.error for a in delivery.attempts)
    assert {v.kind for v in sb.violations} == {"ack_connection_failed"}


async def test_request_url_must_be_set(sb: SlackSandbox) -> None:
    alice = sb.add_user("alice")
    with pytest.raises(Exception, match="request_url is not set"):
        await sb.slash_command(alice, "/x")


async def test_views_keep_typed_values_across_update(sb: SlackSandbox, web: WebClient, serve: Any) -> None:
    recorder: list[bytes] = []

    async def app(req: Request) -> Response:
        recorder.append(await req.body())
        return Response()

    sb.request_url = (await serve(app)).url
    alice = sb.add_user("alice")
    modal = {
        "type": "modal",
        "title": plain("T"),
        "submit": plain("S"),
        "blocks": [
            {
                "type": "input",
                "block_id": "b",
                "label": plain("Name"),
                "dispatch_action": True,
                "element": {"type": "plain_text_input", "action_id": "a"},
            }
        ],
    }
    view = web.views_open(trigger_id=sb.trigger_id(alice), view=modal)["view"]
    [ack] = await sb.fill(alice, {"Name": "typed"})  # dispatch_action: Slack sends block_actions
    assert ack.ok
    assert b"block_actions" in recorder[0]
    updated = web.views_update(view_id=view["id"], view=dict(modal, title=plain("T2")))["view"]
    assert updated["state"]["values"]["b"]["a"]["value"] == "typed"  # same block_id/action_id: kept


def test_post_by_channel_name(sb: SlackSandbox, web: WebClient) -> None:
    ch = sb.add_channel("named", members=[sb.bot])
    assert web.chat_postMessage(channel="#named", text="by name")["channel"] == ch.id
