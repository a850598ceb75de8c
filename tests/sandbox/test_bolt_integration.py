"""The real slack_bolt and slack_sdk, unchanged, work against the stand-in end to end."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.starlette.handler import SlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import Response

from slack_sandbox import SlackSandbox
from tests.sandbox.conftest import block_button, plain, section

INCIDENT_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "incident_open",
    "title": plain("Open incident"),
    "submit": plain("Open"),
    "close": plain("Cancel"),
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": plain("Title"),
            "element": {"type": "plain_text_input", "action_id": "title"},
        },
        {
            "type": "input",
            "block_id": "sev",
            "label": plain("Severity"),
            "element": {
                "type": "static_select",
                "action_id": "sev",
                "options": [
                    {"text": plain("SEV1"), "value": "sev1"},
                    {"text": plain("SEV2"), "value": "sev2"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "resp",
            "label": plain("Responder"),
            "element": {"type": "users_select", "action_id": "resp"},
        },
    ],
}


def build_async_app(sb: SlackSandbox) -> AsyncApp:
    client = AsyncWebClient(token=sb.bot_token, base_url=sb.api_url)
    app = AsyncApp(
        token=sb.bot_token, signing_secret=sb.signing_secret, client=client, process_before_response=True
    )

    @app.command("/incident")
    async def open_incident(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = dict(INCIDENT_MODAL, private_metadata=body["channel_id"])
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view("incident_open")
    async def submitted(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        values = view["state"]["values"]
        title = values["title"]["title"]["value"]
        if len(title) < 4:
            await ack(response_action="errors", errors={"title": "Give it a longer title"})
            return
        await ack()
        sev = values["sev"]["sev"]["selected_option"]["value"]
        responder = values["resp"]["resp"]["selected_user"]
        created = await client.conversations_create(name=f"inc-{title}")
        channel = created["channel"]["id"]
        await client.conversations_invite(channel=channel, users=[body["user"]["id"], responder])
        await client.conversations_setTopic(channel=channel, topic=f"{sev}: {title}")
        await client.chat_postMessage(
            channel=channel,
            text=f"Incident {title} ({sev})",
            blocks=[section(f"*{title}* ({sev})"), block_button("Confirm", action_id="confirm", value=sev)],
        )

    @app.action("confirm")
    async def confirmed(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        user = body["user"]["id"]
        await respond(text=f"Confirmed by <@{user}> ({body['actions'][0]['value']})", replace_original=True)

    return app


async def test_async_bolt_app_command_modal_action(sb: SlackSandbox, serve: Any) -> None:
    alice = sb.add_user("alice")
    bob = sb.add_user("bob")
    general = sb.add_channel("general", members=[alice, bob])
    handler = AsyncSlackRequestHandler(build_async_app(sb))

    async def endpoint(req: Request) -> Response:
        return await handler.handle(req)

    sb.request_url = (await serve(endpoint)).url

    ack = await sb.slash_command(alice, "/incident", "open", channel=general)
    assert ack.status == 200
    assert ack.ok
    assert [v.title for v in sb.open_views(alice)] == ["Open incident"]
    assert sb.calls("auth.test")[0].ok  # Bolt checks its token before handling the first request

    refused = await sb.submit_view(
        alice, "Open incident", {"Title": "db", "Severity": "SEV2", "Responder": bob}
    )
    assert refused.errors == {"title": "Give it a longer title"}
    assert len(sb.open_views(alice)) == 1  # errors keep the modal open

    await sb.submit_view(alice, values={"Title": "db-down"})
    assert sb.open_views(alice) == []
    channel = sb.channel_by_name("inc-db-down")
    assert channel is not None
    assert set(channel.members) == {sb.bot_user_id, alice.id, bob.id}
    assert channel.topic.value == "sev2: db-down"
    [posted] = sb.messages(channel.id)
    assert posted.text == "Incident db-down (sev2)"

    await sb.click(alice, "Confirm", channel=channel.id)
    [replaced] = sb.messages(channel.id)
    assert replaced.ts == posted.ts
    assert replaced.text == f"Confirmed by <@{alice.id}> (sev2)"
    sb.assert_no_violations()


async def test_sync_bolt_app_checks_token_at_start_and_acks_with_text(sb: SlackSandbox, serve: Any) -> None:
    alice = sb.add_user("alice")
    ops = sb.add_channel("ops", members=[alice, sb.bot])
    app = App(
        token=sb.bot_token,
        signing_secret=sb.signing_secret,
        client=WebClient(token=sb.bot_token, base_url=sb.api_url),
        process_before_response=True,
    )
    assert [c.method for c in sb.calls()] == ["auth.test"]  # the sync App calls auth.test when built

    @app.command("/status")
    def status(ack: Any, command: dict[str, Any], client: WebClient) -> None:
        ack(f"Checking {command['text']}...")
        client.chat_postMessage(channel=command["channel_id"], text="All green")

    handler = SlackRequestHandler(app)

    async def endpoint(req: Request) -> Response:
        return await handler.handle(req)

    sb.request_url = (await serve(endpoint)).url
    ack = await sb.slash_command(alice, "/status", "api", channel=ops)
    assert ack.ok
    assert [e.text for e in sb.ephemerals(alice)] == ["Checking api..."]  # a text ack is shown to the user
    assert [m.text for m in sb.messages(ops)] == ["All green"]
    sb.assert_no_violations()


async def test_bolt_url_verification_and_app_mention(sb: SlackSandbox, serve: Any) -> None:
    alice = sb.add_user("alice")
    room = sb.add_channel("room", members=[alice, sb.bot])
    app = AsyncApp(
        token=sb.bot_token,
        signing_secret=sb.signing_secret,
        client=AsyncWebClient(token=sb.bot_token, base_url=sb.api_url),
        process_before_response=True,
    )

    @app.event("app_mention")
    async def mentioned(event: dict[str, Any], say: Any) -> None:
        await say(text=f"hi <@{event['user']}>", thread_ts=event["ts"])

    handler = AsyncSlackRequestHandler(app)

    async def endpoint(req: Request) -> Response:
        return await handler.handle(req)

    sb.request_url = (await serve(endpoint)).url
    assert (await sb.url_verification()).ok
    question = await sb.mention(alice, room, "status?")
    [reply] = sb.thread(room, question.ts)[1:]
    assert reply.text == f"hi <@{alice.id}>"
    assert reply.thread_ts == question.ts
    sb.assert_no_violations()


async def test_unchanged_clients_both_flavours(sb: SlackSandbox) -> None:
    sync = WebClient(token=sb.bot_token, base_url=sb.api_url)
    created = sync.conversations_create(name="from-sync")
    assert created["channel"]["id"].startswith("C")
    assert created["channel"]["is_private"] is False
    posted = sync.chat_postMessage(channel=created["channel"]["id"], text="one")
    assert posted["channel"] == created["channel"]["id"]
    assert posted["message"]["text"] == "one"

    client = AsyncWebClient(token=sb.bot_token, base_url=sb.api_url)
    info = await client.conversations_info(channel=created["channel"]["id"])  # GET with query params
    assert info["channel"]["name"] == "from-sync"
    history = await client.conversations_history(channel=created["channel"]["id"])
    assert [m["text"] for m in history["messages"]] == ["one"]
    upload = await client.files_upload_v2(
        channel=created["channel"]["id"], content="x" * 10, filename="log.txt"
    )
    assert upload["file"]["id"].startswith("F")
    assert sb.messages(created["channel"]["id"])[-1].files[0]["name"] == "log.txt"
    assert {c.http_verb for c in sb.calls("conversations.info")} == {"GET"}
    sb.assert_no_violations()
