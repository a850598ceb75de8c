"""Requests to the app: signatures, ack deadline, event retries, trigger_id and response_url rules, shapes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import Response

from slack_sandbox import SlackSandbox, load_reference
from slack_sandbox.signing import signature, signed_headers, verify
from tests.sandbox.conftest import SECRET, AppUnderTest, block_button, plain

Serve = Callable[[Callable[[Request], Awaitable[Response]]], Awaitable[AppUnderTest]]


class Recorder:
    """A raw app that records every request and answers as told."""

    def __init__(self, delay: float = 0.0, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.delay = delay
        self.status = status
        self.headers = headers or {}
        self.body: bytes = b""
        self.release = asyncio.Event()  # lets a "slow" app finish early when the test ends

    async def handle(self, req: Request) -> Response:
        self.requests.append((dict(req.headers), await req.body()))
        if self.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), self.delay)
        return Response(self.body, status_code=self.status, headers=self.headers)

    def payload(self, i: int = -1) -> dict[str, Any]:
        headers, body = self.requests[i]
        if headers["content-type"].startswith("application/json"):
            data: dict[str, Any] = json.loads(body)
            return data
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        return json.loads(form["payload"]) if "payload" in form else form


# ---- signing ----------------------------------------------------------------------------------------
async def test_requests_are_signed_as_slack_signs(sb: SlackSandbox, serve: Serve) -> None:
    app = Recorder()
    sb.request_url = (await serve(app.handle)).url
    alice = sb.add_user("alice")
    await sb.slash_command(alice, "/incident", "open")
    headers, body = app.requests[0]
    assert headers["x-slack-signature"] == signature(SECRET, headers["x-slack-request-timestamp"], body)
    assert SignatureVerifier(SECRET).is_valid(
        body, headers["x-slack-request-timestamp"], headers["x-slack-signature"]
    )
    assert headers["content-type"] == "application/x-www-form-urlencoded"


def test_signing_helpers() -> None:
    body = "a=1"
    hdrs = signed_headers("s3cret", body, timestamp=1_700_000_000)
    assert hdrs["X-Slack-Signature"] == signature("s3cret", "1700000000", body)
    assert verify("s3cret", "1700000000", body, hdrs["X-Slack-Signature"], now=1_700_000_100)
    assert not verify("s3cret", "1700000000", body, hdrs["X-Slack-Signature"], now=1_700_000_301)  # replay
    assert not verify("other", "1700000000", body, hdrs["X-Slack-Signature"], now=1_700_000_000)


# ---- ack deadline -----------------------------------------------------------------------------------
async def test_slow_ack_is_a_violation_and_a_fast_one_is_not(sb: SlackSandbox, serve: Serve) -> None:
    sb.configure(ack_timeout=0.3)
    alice = sb.add_user("alice")
    slow = Recorder(delay=4)
    sb.request_url = (await serve(slow.handle)).url
    ack = await sb.slash_command(alice, "/incident")
    slow.release.set()
    assert ack.timed_out
    assert not ack.ok
    assert ack.elapsed >= 0.3
    assert [v.kind for v in sb.violations] == ["late_ack"]

    sb.clear_recordings()
    sb.request_url = (await serve(Recorder().handle)).url
    fast = await sb.slash_command(alice, "/incident")
    assert fast.ok
    assert not fast.timed_out
    assert sb.violations == []


async def test_error_answers_are_violations(sb: SlackSandbox, serve: Serve) -> None:
    sb.request_url = (await serve(Recorder(status=500).handle)).url
    ack = await sb.slash_command(sb.add_user("alice"), "/incident")
    assert ack.status == 500
    assert [v.kind for v in sb.violations] == ["ack_http_error"]


# ---- event retries ----------------------------------------------------------------------------------
async def test_unacknowledged_event_is_retried_three_times(sb: SlackSandbox, serve: Serve) -> None:
    sb.configure(ack_timeout=0.3, event_retry_delays=(0, 0, 0))
    slow = Recorder(delay=4)  # takes 4 s to acknowledge
    sb.request_url = (await serve(slow.handle)).url
    alice = sb.add_user("alice")
    delivery = await sb.send_event("app_mention", user=alice, channel="C1", text="<@U1> hi")
    await delivery.wait()
    slow.release.set()
    assert len(slow.requests) == 4
    ids = {json.loads(body)["event_id"] for _, body in slow.requests}
    assert ids == {delivery.event_id}
    assert "x-slack-retry-num" not in slow.requests[0][0]
    assert [h["x-slack-retry-num"] for h, _ in slow.requests[1:]] == ["1", "2", "3"]
    assert {h["x-slack-retry-reason"] for h, _ in slow.requests[1:]} == {"http_timeout"}
    assert [a.retry_num for a in delivery.attempts] == [0, 1, 2, 3]
    assert not delivery.acknowledged
    assert [v.kind for v in sb.violations] == ["late_ack"] * 4


async def test_http_error_retried_with_reason(sb: SlackSandbox, serve: Serve) -> None:
    sb.configure(event_retry_delays=(0, 0, 0))
    app = Recorder(status=503)
    sb.request_url = (await serve(app.handle)).url
    delivery = await sb.send_event("app_home_opened", user="U1", channel="D1", tab="home", wait_retries=True)
    assert len(delivery.attempts) == 4
    assert {h["x-slack-retry-reason"] for h, _ in app.requests[1:]} == {"http_error"}


async def test_no_retry_header_stops_retries(sb: SlackSandbox, serve: Serve) -> None:
    sb.configure(event_retry_delays=(0, 0, 0))
    app = Recorder(status=503, headers={"X-Slack-No-Retry": "1"})
    sb.request_url = (await serve(app.handle)).url
    delivery = await sb.send_event("app_mention", user="U1", channel="C1", text="hi", wait_retries=True)
    assert len(app.requests) == 1
    assert len(delivery.attempts) == 1


async def test_acknowledged_event_is_not_retried(sb: SlackSandbox, serve: Serve) -> None:
    sb.configure(event_retry_delays=(0, 0, 0))
    app = Recorder()
    sb.request_url = (await serve(app.handle)).url
    delivery = await sb.send_event("app_mention", user="U1", channel="C1", text="hi", wait_retries=True)
    assert delivery.acknowledged
    assert len(app.requests) == 1
    assert delivery.done


async def test_retry_delays_default_to_slacks(sb: SlackSandbox) -> None:
    assert sb.config.event_retry_delays == (0.0, 60.0, 300.0)
    assert sb.config.ack_timeout == 3.0


# ---- trigger_id -------------------------------------------------------------------------------------
MODAL = {"type": "modal", "title": plain("Hi"), "blocks": [{"type": "divider"}]}


def test_trigger_id_valid_three_seconds_and_once(sb: SlackSandbox, web: WebClient) -> None:
    alice = sb.add_user("alice")
    trigger = sb.trigger_id(alice)
    assert web.views_open(trigger_id=trigger, view=MODAL)["ok"]
    with pytest.raises(SlackApiError) as err:
        web.views_open(trigger_id=trigger, view=MODAL)
    assert err.value.response["error"] == "exchanged_trigger_id"
    late = sb.trigger_id(alice)
    sb.clock.advance(3.1)
    with pytest.raises(SlackApiError) as err:
        web.views_open(trigger_id=late, view=MODAL)
    assert err.value.response["error"] == "expired_trigger_id"
    for bogus in ("nope", "123.456.abcdef"):
        with pytest.raises(SlackApiError) as err:
            web.views_open(trigger_id=bogus, view=MODAL)
        assert err.value.response["error"] == "invalid_trigger_id"


def test_modal_stack_at_most_three(sb: SlackSandbox, web: WebClient) -> None:
    alice = sb.add_user("alice")
    root = web.views_open(trigger_id=sb.trigger_id(alice), view=MODAL)["view"]
    for _ in range(2):
        top = sb.open_views(alice)[-1]
        trigger = sb.ws.issue_trigger(alice.id, view_id=top.id).id  # as if clicked inside the modal
        assert web.views_push(trigger_id=trigger, view=MODAL)["view"]["root_view_id"] == root["id"]
    trigger = sb.ws.issue_trigger(alice.id, view_id=sb.open_views(alice)[-1].id).id
    with pytest.raises(SlackApiError) as err:
        web.views_push(trigger_id=trigger, view=MODAL)
    assert err.value.response["error"] == "push_limit_reached"
    assert len(sb.open_views(alice)) == 3


def test_push_needs_a_trigger_from_the_modal(sb: SlackSandbox, web: WebClient) -> None:
    alice = sb.add_user("alice")
    with pytest.raises(SlackApiError) as err:
        web.views_push(trigger_id=sb.trigger_id(alice), view=MODAL)
    assert err.value.response["error"] == "not_found"


def test_views_update_and_hash(sb: SlackSandbox, web: WebClient) -> None:
    alice = sb.add_user("alice")
    opened = web.views_open(trigger_id=sb.trigger_id(alice), view=dict(MODAL, external_id="inc-1"))["view"]
    with pytest.raises(SlackApiError) as err:
        web.views_update(view_id=opened["id"], hash="0.stale", view=MODAL)
    assert err.value.response["error"] == "hash_conflict"
    updated = web.views_update(external_id="inc-1", hash=opened["hash"], view=dict(MODAL, title=plain("New")))
    assert updated["view"]["id"] == opened["id"]
    assert sb.open_views(alice)[0].title == "New"
    with pytest.raises(SlackApiError) as err:
        web.views_update(view_id="V0NOPE", view=MODAL)
    assert err.value.response["error"] == "not_found"


def test_duplicate_external_id(sb: SlackSandbox, web: WebClient) -> None:
    alice, bob = sb.add_user("alice"), sb.add_user("bob")
    web.views_open(trigger_id=sb.trigger_id(alice), view=dict(MODAL, external_id="same"))
    with pytest.raises(SlackApiError) as err:
        web.views_open(trigger_id=sb.trigger_id(bob), view=dict(MODAL, external_id="same"))
    assert err.value.response["error"] == "duplicate_external_id"


# ---- response_url -----------------------------------------------------------------------------------
async def test_response_url_five_uses(sb: SlackSandbox, serve: Serve) -> None:
    app = Recorder()
    sb.request_url = (await serve(app.handle)).url
    alice = sb.add_user("alice")
    ch = sb.add_channel("ops", members=[alice, sb.bot])
    await sb.slash_command(alice, "/incident", channel=ch)
    url = app.payload()["response_url"]
    async with httpx.AsyncClient() as http:
        for i in range(5):
            resp = await http.post(url, json={"text": f"step {i}"})
            assert (resp.status_code, resp.text) == (200, "ok")
        sixth = await http.post(url, json={"text": "too many"})
    assert sixth.status_code == 404
    assert [e.text for e in sb.ephemerals(alice)] == [f"step {i}" for i in range(5)]
    assert [v.kind for v in sb.violations] == ["response_url_overused"]


async def test_response_url_expires_after_30_minutes(sb: SlackSandbox, serve: Serve) -> None:
    app = Recorder()
    sb.request_url = (await serve(app.handle)).url
    await sb.slash_command(sb.add_user("alice"), "/incident")
    sb.clock.advance(30 * 60 + 1)
    async with httpx.AsyncClient() as http:
        resp = await http.post(app.payload()["response_url"], json={"text": "late"})
    assert (resp.status_code, resp.text) == (404, "expired_url")


async def test_response_url_kinds_of_response(sb: SlackSandbox, serve: Serve) -> None:
    app = Recorder()
    sb.request_url = (await serve(app.handle)).url
    alice = sb.add_user("alice")
    ch = sb.add_channel("ops", members=[alice, sb.bot])
    web = WebClient(token=sb.bot_token, base_url=sb.api_url)
    posted = web.chat_postMessage(channel=ch.id, text="Page?", blocks=[block_button("Ack", action_id="ack")])
    async with httpx.AsyncClient() as http:
        await sb.click(alice, "Ack")
        url = app.payload()["response_url"]
        await http.post(url, json={"text": "only you see this"})
        await http.post(url, json={"text": "everyone sees this", "response_type": "in_channel"})
        await http.post(url, json={"text": "acked", "replace_original": True})
        assert sb.message(ch, posted["ts"]).text == "acked"
        await http.post(url, json={"delete_original": True})
    assert [e.text for e in sb.ephemerals(alice)] == ["only you see this"]
    assert [m.text for m in sb.messages(ch)] == ["everyone sees this"]


# ---- events caused by API calls ---------------------------------------------------------------------
async def test_side_effect_events_follow_subscriptions(sb: SlackSandbox, serve: Serve) -> None:
    app = Recorder()
    sb.request_url = (await serve(app.handle)).url
    alice = sb.add_user("alice")
    web = WebClient(token=sb.bot_token, base_url=sb.api_url)
    ch = web.conversations_create(name="inc-events")["channel"]["id"]
    web.conversations_invite(channel=ch, users=[alice.id])
    await asyncio.sleep(0.2)
    assert app.requests == []  # member_joined_channel is not subscribed by default
    sb.event_subscriptions.add("member_joined_channel")
    bob = sb.add_user("bob")
    web.conversations_invite(channel=ch, users=[bob.id])
    for _ in range(100):
        if app.requests:
            break
        await asyncio.sleep(0.01)
    event = app.payload()["event"]
    assert (event["type"], event["user"], event["channel"], event["inviter"]) == (
        "member_joined_channel",
        bob.id,
        ch,
        sb.bot_user_id,
    )


# ---- payload shapes match the recorded ones ---------------------------------------------------------
def _keys_within(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Keys in ``ours`` that the recorded payload shape never had."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        extra = [f"{path}/{k}" for k in ours if k not in theirs]
        for k, v in ours.items():
            if k in theirs and k not in ("state", "blocks", "actions", "event_payload"):
                extra += _keys_within(v, theirs[k], f"{path}/{k}")
        return extra
    return []


async def test_payload_shapes_match_recorded_traffic(sb: SlackSandbox, serve: Serve) -> None:
    ref = load_reference()
    app = Recorder()
    sb.request_url = (await serve(app.handle)).url
    sb.event_subscriptions.update({"message", "member_joined_channel"})
    alice = sb.add_user("alice")
    ch = sb.add_channel("shapes", members=[alice, sb.bot])
    web = WebClient(token=sb.bot_token, base_url=sb.api_url)
    web.chat_postMessage(channel=ch.id, text="m", blocks=[block_button("Go", action_id="go")])
    modal = {
        "type": "modal",
        "title": plain("T"),
        "submit": plain("S"),
        "notify_on_close": True,
        "blocks": [
            {
                "type": "input",
                "block_id": "b",
                "label": plain("L"),
                "element": {"type": "plain_text_input", "action_id": "a"},
            }
        ],
    }

    await sb.slash_command(alice, "/x", channel=ch)
    await sb.click(alice, "Go")
    await sb.message_shortcut(alice, "cb", ch)
    web.views_open(trigger_id=sb.trigger_id(alice), view=modal)
    await sb.submit_view(alice, values={"L": "v"})
    web.views_open(trigger_id=sb.trigger_id(alice), view=modal)
    await sb.close_view(alice)
    await sb.mention(alice, ch, "hi")
    await sb.join(sb.add_user("bob"), ch)
    await sb.send_event("app_home_opened", user=alice, channel="D1", tab="home")

    shapes = {
        "/x": "SlashCommandPayload",
        "block_actions": "BlockActionPayload",
        "message_action": "MessageShortcutPayload",
        "view_submission": "ViewSubmissionPayload",
        "view_closed": "ViewClosedPayload",
        "app_mention": "AppMentionPayload",
        "message": "MessagePayload",
        "member_joined_channel": "MemberJoinedChannelPayload",
        "app_home_opened": "AppHomeOpenedPayload",
    }
    seen = set()
    for i in range(len(app.requests)):
        payload = app.payload(i)
        kind = payload.get("command") or payload.get("type")
        if kind == "event_callback":
            kind = payload["event"]["type"]
        seen.add(kind)
        extra = _keys_within(payload, ref.payload_shape(shapes[str(kind)]))
        # Slack sends these even though the recorded samples lacked them: a view's blocks, and
        # enterprise (null) / response_urls on interactions.
        allowed = {"/view/blocks", "/enterprise", "/response_urls"}
        assert set(extra) <= allowed, (kind, extra)
    assert seen == set(shapes)
