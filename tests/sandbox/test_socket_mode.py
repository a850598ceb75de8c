"""Socket Mode in the stand-in: apps.connections.open, the WebSocket link, envelopes, acks, redelivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_sandbox import SlackSandbox
from slack_sandbox.server import AsgiServer
from slack_sandbox.testing import start_asgi
from tests.sandbox.conftest import block_button, plain

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "note",
    "title": plain("Note"),
    "submit": plain("Save"),
    "blocks": [
        {
            "type": "input",
            "block_id": "text",
            "label": plain("Text"),
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


class App:
    """A raw Socket Mode client (aiohttp, as slack_sdk's): connects, reads envelopes, acks by hand."""

    def __init__(self, sb: SlackSandbox, session: aiohttp.ClientSession) -> None:
        self.sb = sb
        self.session = session
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.hello: dict[str, Any] = {}

    async def url(self, token: str | None = None) -> str:
        web = AsyncWebClient(base_url=self.sb.api_url)
        answer = await web.apps_connections_open(app_token=token or self.sb.app_token)
        return str(answer["url"])

    async def connect(self) -> App:
        self.ws = await self.session.ws_connect(await self.url())
        self.hello = await self.ws.receive_json(timeout=10)
        return self

    async def next(self) -> dict[str, Any]:
        assert self.ws is not None
        data: dict[str, Any] = await self.ws.receive_json(timeout=10)
        return data

    async def ack(self, envelope: dict[str, Any], payload: dict[str, Any] | None = None) -> None:
        assert self.ws is not None
        message: dict[str, Any] = {"envelope_id": envelope["envelope_id"]}
        if payload is not None:
            message["payload"] = payload
        await self.ws.send_json(message)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def app(sb: SlackSandbox, session: aiohttp.ClientSession) -> App:
    sb.delivery = "socket"
    return await App(sb, session).connect()


class TestConnectionsOpen:
    def test_an_app_token_gets_a_websocket_url_at_the_stand_in(self, sb: SlackSandbox) -> None:
        assert sb.app_token.startswith(f"xapp-1-{sb.app_id}-")
        answer = WebClient(base_url=sb.api_url).apps_connections_open(app_token=sb.app_token)
        assert answer["ok"]
        assert answer["url"].startswith(f"ws://127.0.0.1:{sb.port}/link/?ticket=")
        assert answer["url"].endswith(f"&app_id={sb.app_id}")
        headers = {k.lower(): v for k, v in answer.headers.items()}
        assert headers["x-accepted-oauth-scopes"] == "connections:write"
        sb.assert_no_violations()

    def test_a_bot_token_is_not_allowed(self, sb: SlackSandbox) -> None:
        with pytest.raises(SlackApiError) as err:
            WebClient(base_url=sb.api_url).apps_connections_open(app_token=sb.bot_token)
        assert err.value.response["error"] == "not_allowed_token_type"
        assert [v.kind for v in sb.violations] == ["not_allowed_token_type"]

    def test_an_app_token_without_connections_write_is_refused(self, sb: SlackSandbox) -> None:
        token = sb.issue_app_token(["authorizations:read"])
        with pytest.raises(SlackApiError) as err:
            WebClient(base_url=sb.api_url).apps_connections_open(app_token=token)
        assert err.value.response["error"] == "missing_scope"
        assert err.value.response["needed"] == "connections:write"

    def test_no_token_and_an_unknown_token(self, sb: SlackSandbox) -> None:
        web = WebClient(base_url=sb.api_url)
        with pytest.raises(SlackApiError, match="not_authed"):
            web.api_call("apps.connections.open")
        with pytest.raises(SlackApiError, match="invalid_auth"):
            web.apps_connections_open(app_token="xapp-1-A0-0-nope")

    def test_an_app_token_calls_nothing_else(self, sb: SlackSandbox) -> None:
        with pytest.raises(SlackApiError) as err:
            WebClient(token=sb.app_token, base_url=sb.api_url).auth_test()
        assert err.value.response["error"] == "not_allowed_token_type"


class TestLink:
    async def test_hello_on_connect(self, sb: SlackSandbox, app: App) -> None:
        assert app.hello["type"] == "hello"
        assert app.hello["num_connections"] == 1
        assert app.hello["connection_info"] == {"app_id": sb.app_id}
        connection = await sb.wait_for_socket()
        assert connection.open
        assert sb.socket_connected

    async def test_a_url_is_good_for_one_connection(
        self, sb: SlackSandbox, session: aiohttp.ClientSession
    ) -> None:
        url = await App(sb, session).url()
        async with session.ws_connect(url) as ws:
            assert (await ws.receive_json())["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await session.ws_connect(url)
        assert err.value.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(url.replace("ticket=", "ticket=0"))
        assert [v.kind for v in sb.violations] == ["invalid_socket_ticket"] * 2


class TestEnvelopes:
    async def test_slash_command_envelope_and_its_answer(self, sb: SlackSandbox, app: App) -> None:
        alice = sb.add_user("alice")
        pending = asyncio.ensure_future(sb.slash_command(alice, "/incident", "status"))
        envelope = await app.next()
        assert envelope["type"] == "slash_commands"
        assert envelope["accepts_response_payload"] is True
        assert "retry_attempt" not in envelope
        payload = envelope["payload"]
        assert (payload["command"], payload["text"], payload["user_id"]) == ("/incident", "status", alice.id)
        assert payload["trigger_id"]
        assert payload["response_url"].startswith(sb.base_url)
        await app.ack(envelope, {"text": "All quiet"})
        ack = await pending
        assert ack.ok
        assert ack.json() == {"text": "All quiet"}
        assert sb.ephemerals(alice)[-1].text == "All quiet"
        [sent] = sb.socket_envelopes("slash_commands")
        assert sent.acked
        assert [s.retry_attempt for s in sent.sends] == [0]
        sb.assert_no_violations()

    async def test_interactions_and_view_answers(self, sb: SlackSandbox, app: App) -> None:
        alice = sb.add_user("alice")
        general = sb.add_channel("general", members=[alice, sb.bot])
        web = WebClient(token=sb.bot_token, base_url=sb.api_url)
        web.chat_postMessage(channel=general.id, text="note?", blocks=[block_button("Add note")])
        clicked = asyncio.ensure_future(sb.click(alice, "Add note", channel=general))
        envelope = await app.next()
        assert (envelope["type"], envelope["accepts_response_payload"]) == ("interactive", False)
        assert envelope["payload"]["type"] == "block_actions"
        await app.ack(envelope)
        assert (await clicked) is not None
        web.views_open(trigger_id=sb.trigger_id(alice), view=MODAL)
        submitted = asyncio.ensure_future(sb.submit_view(alice, values={"Text": "x"}))
        envelope = await app.next()
        assert envelope["payload"]["type"] == "view_submission"
        assert envelope["accepts_response_payload"] is True
        await app.ack(envelope, {"response_action": "errors", "errors": {"text": "Too short"}})
        ack = await submitted
        assert ack.errors == {"text": "Too short"}
        assert sb.open_views(alice)  # the modal stays, as with errors over HTTP
        submitted = asyncio.ensure_future(sb.submit_view(alice, values={"Text": "long enough"}))
        await app.ack(await app.next())
        await submitted
        assert sb.open_views(alice) == []
        sb.assert_no_violations()

    async def test_events_carry_retry_fields_and_are_retried_when_not_acked(
        self, sb: SlackSandbox, app: App
    ) -> None:
        sb.configure(ack_timeout=0.3, event_retry_delays=(0,))
        alice = sb.add_user("alice")
        delivery = asyncio.ensure_future(
            sb.send_event("app_mention", user=alice, text="hi", wait_retries=True)
        )
        first = await app.next()
        assert first["type"] == "events_api"
        assert (first["retry_attempt"], first["retry_reason"], first["accepts_response_payload"]) == (
            0,
            "",
            False,
        )
        assert first["payload"]["type"] == "event_callback"
        assert first["payload"]["event"]["type"] == "app_mention"
        retry = await app.next()  # not acked within 0.3 s: Slack tries again
        assert retry["envelope_id"] == first["envelope_id"]
        assert (retry["retry_attempt"], retry["retry_reason"]) == (1, "timeout")
        await app.ack(retry)
        done = await delivery
        assert done.acknowledged
        assert [a.retry_num for a in done.attempts] == [0, 1]
        assert [v.kind for v in sb.violations] == ["late_ack"]

    async def test_a_side_effect_event_goes_over_the_socket(self, sb: SlackSandbox, app: App) -> None:
        sb.event_subscriptions.add("member_joined_channel")
        alice = sb.add_user("alice")
        channel = sb.add_channel("ops", members=[sb.bot])
        web = AsyncWebClient(token=sb.bot_token, base_url=sb.api_url)
        await web.conversations_invite(channel=channel.id, users=[alice.id])
        envelope = await app.next()
        assert envelope["payload"]["event"]["type"] == "member_joined_channel"
        await app.ack(envelope)

    async def test_bad_acks_are_violations(self, sb: SlackSandbox, app: App) -> None:
        assert app.ws is not None
        await app.ws.send_str("not json")
        await app.ws.send_json({"envelope_id": "no-such-envelope"})
        alice = sb.add_user("alice")
        pending = asyncio.ensure_future(sb.slash_command(alice, "/incident"))
        await app.ack(await app.next())  # the link still works
        assert (await pending).ok
        assert [v.kind for v in sb.violations] == ["invalid_socket_ack"] * 2


class TestDrops:
    async def test_an_envelope_in_flight_on_a_dropped_connection_comes_again_on_the_next(
        self, sb: SlackSandbox, app: App, session: aiohttp.ClientSession
    ) -> None:
        alice = sb.add_user("alice")
        first = asyncio.ensure_future(sb.slash_command(alice, "/incident", "one"))
        await app.ack(await app.next())
        assert (await first).ok
        await sb.drop_socket(after_envelopes=1)
        second = asyncio.ensure_future(sb.slash_command(alice, "/incident", "two"))
        lost = await app.next()  # it arrives, then the connection is gone before the ack
        assert app.ws is not None
        closed = await app.ws.receive(timeout=10)
        assert closed.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        assert not sb.socket_connected
        again = await App(sb, session).connect()
        redelivered = await again.next()
        assert redelivered["envelope_id"] == lost["envelope_id"]
        assert redelivered["payload"]["text"] == "two"
        assert (redelivered["retry_attempt"], redelivered["retry_reason"]) == (1, "connection_lost")
        await again.ack(redelivered, {"text": "done"})
        ack = await second
        assert (ack.ok, ack.retry_num) == (True, 1)
        envelopes = sb.socket_envelopes()
        assert [len(e.sends) for e in envelopes] == [1, 2]  # the acked one was not sent again
        assert [e.acked_on for e in envelopes] == [1, 2]
        assert [(c.id, c.closed_by) for c in sb.socket_connections()] == [(1, "drop"), (2, None)]
        sb.assert_no_violations()

    async def test_requests_wait_for_the_next_connection(
        self, sb: SlackSandbox, app: App, session: aiohttp.ClientSession
    ) -> None:
        alice = sb.add_user("alice")
        assert await sb.drop_socket() == 1
        pending = asyncio.ensure_future(sb.slash_command(alice, "/incident", "later"))
        again = await App(sb, session).connect()
        envelope = await again.next()
        assert "retry_attempt" not in envelope  # never sent before
        await again.ack(envelope)
        assert (await pending).ok

    async def test_no_connection_is_a_failed_delivery(self, sb: SlackSandbox) -> None:
        sb.delivery = "socket"
        sb.configure(socket_connect_timeout=0.1)
        ack = await sb.slash_command(sb.add_user("alice"), "/incident")
        assert not ack.ok
        assert ack.error == "no Socket Mode connection"
        assert [v.kind for v in sb.violations] == ["ack_connection_failed"]


class TestDisconnect:
    async def test_refresh_requested_moves_envelopes_to_the_next_connection(
        self, sb: SlackSandbox, app: App, session: aiohttp.ClientSession
    ) -> None:
        alice = sb.add_user("alice")
        assert await sb.socket_disconnect("refresh_requested") == 1
        message = await app.next()
        assert (message["type"], message["reason"]) == ("disconnect", "refresh_requested")
        pending = asyncio.ensure_future(sb.slash_command(alice, "/incident", "after refresh"))
        again = await App(sb, session).connect()
        envelope = await again.next()
        assert envelope["payload"]["text"] == "after refresh"
        await again.ack(envelope)
        assert (await pending).ok
        assert app.ws is not None
        closing = await app.ws.receive(timeout=15)  # the stand-in closes the old one itself
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        old, new = sb.socket_connections()
        assert (old.disconnect_reason, old.closed_by, new.open) == ("refresh_requested", "sandbox", True)

    async def test_a_warning_keeps_the_connection(self, sb: SlackSandbox, app: App) -> None:
        await sb.socket_disconnect("warning")
        assert (await app.next())["reason"] == "warning"
        pending = asyncio.ensure_future(sb.slash_command(sb.add_user("alice"), "/incident"))
        await app.ack(await app.next())
        assert (await pending).ok
        with pytest.raises(ValueError, match="reason"):
            await sb.socket_disconnect("bored")


class TestDeliveryChoice:
    async def test_auto_uses_the_socket_while_connected(
        self, sb: SlackSandbox, session: aiohttp.ClientSession, asgi_servers: list[AsgiServer]
    ) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        async def over_http(request: Request) -> PlainTextResponse:
            return PlainTextResponse("over http")

        server = await start_asgi(
            Starlette(routes=[Route("/slack/events", over_http, methods=["POST"])]), asgi_servers
        )
        sb.request_url = f"{server.base_url}/slack/events"
        alice = sb.add_user("alice")
        assert sb.delivery == "auto"
        assert (await sb.slash_command(alice, "/incident")).body == "over http"
        app = await App(sb, session).connect()
        pending = asyncio.ensure_future(sb.slash_command(alice, "/incident"))
        await app.ack(await app.next(), {"text": "over the socket"})
        assert (await pending).json() == {"text": "over the socket"}
        sb.delivery = "http"
        assert (await sb.slash_command(alice, "/incident")).body == "over http"
        with pytest.raises(ValueError, match="delivery"):
            sb.delivery = "pigeon"


def bolt_app(sb: SlackSandbox) -> AsyncApp:
    client = AsyncWebClient(token=sb.bot_token, base_url=sb.api_url)
    app = AsyncApp(client=client, signing_secret=sb.signing_secret, process_before_response=True)

    @app.command("/note")
    async def note(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.view("note")
    async def saved(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        text = view["state"]["values"]["text"]["text"]["value"]
        if len(text) < 3:
            await ack(response_action="errors", errors={"text": "Say more"})
            return
        await ack()
        await client.chat_postMessage(channel=body["user"]["id"], text=f"noted: {text}")

    return app


async def test_bolt_over_socket_mode_with_a_refresh(sb: SlackSandbox) -> None:
    """Bolt's AsyncSocketModeHandler (slack_sdk's aiohttp client), unchanged, against the stand-in."""
    alice = sb.add_user("alice")
    handler = AsyncSocketModeHandler(bolt_app(sb), sb.app_token, ping_interval=0.2)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await sb.wait_for_socket()
        assert sb.delivery == "auto"  # no request_url: the socket is how the app is reached
        assert (await sb.slash_command(alice, "/note")).ok
        for _ in range(200):
            if sb.open_views(alice):
                break
            await asyncio.sleep(0.02)
        assert (await sb.submit_view(alice, values={"Text": "no"})).errors == {"text": "Say more"}
        await sb.socket_disconnect("refresh_requested")
        await sb.wait_for_socket(connections=2)
        ack = await sb.submit_view(alice, values={"Text": "after the refresh"})
        assert ack.ok
        assert not ack.errors
        for _ in range(200):
            if any(m.text == "noted: after the refresh" for m in sb.messages(alice)):
                break
            await asyncio.sleep(0.02)
        assert [m.text for m in sb.messages(alice)] == ["noted: after the refresh"]
        assert len(sb.calls("apps.connections.open", ok=True)) == 2
        assert sb.socket_envelopes()[-1].sends[0].connection == 2
        sb.assert_no_violations()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
