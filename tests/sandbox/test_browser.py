"""The live page in a real headless Chromium, against a real Bolt app: a person clicks "Set" in the page, the
app opens a modal, the person fills and submits it in the page, and the page shows the app's update.

Needs Debian's Chromium and Playwright for Python (never ``playwright install``: the browser is the
system's). Missing either fails the test with the install hint; it is never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import Response

from slack_sandbox import SlackSandbox
from tests.sandbox.conftest import AppUnderTest, plain

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    "install the browser and its driver: `apt-get install -y chromium chromium-driver` and "
    "`.venv/bin/pip install playwright` (never `playwright install`: the test uses /usr/bin/chromium)"
)
ITEM = "Feature table freshness"
Serve = Callable[[Callable[[Request], Awaitable[Response]]], Awaitable[AppUnderTest]]


def checklist(owner: str | None = None, status: str = "Unknown", note: str = "") -> list[dict[str, Any]]:
    emoji = {"Unknown": ":grey_question:", "OK": ":white_check_mark:", "Stale": ":warning:"}[status]
    who = f"<@{owner}>" if owner else "_unset_"
    return [
        {"type": "header", "text": plain("INC-7: Stale features in user_daily")},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Severity*\n:large_orange_circle: SEV2"},
                {"type": "mrkdwn", "text": "*Status*\nInvestigating"},
            ],
        },
        {"type": "divider"},
        {
            "type": "section",
            "block_id": "item",
            "text": {"type": "mrkdwn", "text": f"{emoji} *{ITEM}*: {status} · owner {who}"},
            "accessory": {"type": "button", "text": plain("Set"), "action_id": "set_item", "value": "fresh"},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": note or "_no note yet_"}]},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": plain("Confirm for DataOps"),
                    "action_id": "confirm",
                    "style": "primary",
                },
                {"type": "button", "text": plain("Escalate"), "action_id": "escalate", "style": "danger"},
            ],
        },
    ]


ITEM_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "set_item",
    "title": plain("Checklist item"),
    "submit": plain("Save"),
    "close": plain("Cancel"),
    "blocks": [
        {
            "type": "input",
            "block_id": "owner",
            "label": plain("Owner"),
            "element": {"type": "users_select", "action_id": "owner", "placeholder": plain("Pick a person")},
        },
        {
            "type": "input",
            "block_id": "status",
            "label": plain("Status"),
            "element": {
                "type": "radio_buttons",
                "action_id": "status",
                "options": [{"text": plain(s), "value": s.lower()} for s in ("OK", "Stale", "Unknown")],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": plain("Note"),
            "element": {"type": "plain_text_input", "action_id": "note", "multiline": True},
        },
    ],
}


def checklist_app(sb: SlackSandbox) -> AsyncApp:
    """The app under test: /checklist posts the card; Set opens the modal; Save updates the card."""
    client = AsyncWebClient(token=sb.bot_token, base_url=sb.api_url)
    app = AsyncApp(signing_secret=sb.signing_secret, client=client, process_before_response=True)

    @app.command("/checklist")
    async def post(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        card = await client.chat_postMessage(channel=body["channel_id"], text=ITEM, blocks=checklist())
        await client.pins_add(channel=body["channel_id"], timestamp=card["ts"])
        await client.chat_postMessage(
            channel=body["channel_id"],
            thread_ts=card["ts"],
            text="Playbook `freshness` ran: newest row 6 h old",
        )

    @app.action("set_item")
    async def set_item(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        where = f"{body['channel']['id']}|{body['message']['ts']}"
        await client.views_open(trigger_id=body["trigger_id"], view=dict(ITEM_MODAL, private_metadata=where))

    @app.view("set_item")
    async def saved(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        values = view["state"]["values"]
        owner = values["owner"]["owner"]["selected_user"]
        status = values["status"]["status"]["selected_option"]["text"]["text"]
        note = values["note"]["note"]["value"] or ""
        channel, ts = view["private_metadata"].split("|")
        await client.chat_update(channel=channel, ts=ts, text=ITEM, blocks=checklist(owner, status, note))
        await client.chat_postEphemeral(
            channel=channel, user=body["user"]["id"], text=f"Saved *{ITEM}* as {status}."
        )

    return app


def _browser_tools() -> Any:
    """Playwright's async API, or a failure that says how to install what is missing."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail(f"Playwright for Python is missing: {INSTALL_HINT}")
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL_HINT}")
    return async_playwright


async def test_a_person_clicks_fills_and_submits_in_the_page(
    sb: SlackSandbox, serve: Serve, tmp_path: Path
) -> None:
    async_playwright = _browser_tools()
    from playwright.async_api import expect

    alice = sb.add_user("alice", real_name="Alice Ops")
    bob = sb.add_user("bob", real_name="Bob Data")
    ops = sb.add_channel(
        "inc-7-stale-features",
        members=[alice, bob, sb.bot],
        topic="SEV2 INC-7: Stale features | investigating",
    )
    sb.add_channel("general", members=[alice, bob], is_general=True)
    handler = AsyncSlackRequestHandler(checklist_app(sb))

    async def events(req: Request) -> Response:
        return await handler.handle(req)

    sb.request_url = (await serve(events)).url
    assert (await sb.slash_command(alice, "/checklist", channel=ops)).ok
    # Text from people and apps is shown as text, never run.
    await sb.say(bob, ops, "<img src=x onerror=\"document.title='owned'\"> & <javascript:alert(1)|click>")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 860})
            page.set_default_timeout(8000)
            await page.goto(f"{sb.base_url}/?as=alice&channel={ops.name}")
            card = page.locator(".msg.pinned")
            await expect(card).to_contain_text(f"{ITEM}: Unknown · owner unset")
            await expect(card).to_contain_text("📌 Pinned")
            await expect(card.get_by_role("button", name="1 reply")).to_be_visible()
            await expect(page.locator("#channel-header")).to_contain_text("SEV2 INC-7: Stale features")
            await expect(page.get_by_text("<img src=x")).to_be_visible()
            assert await page.locator("img[src=x], a[href^=javascript]").count() == 0

            # Read-only until the stand-in allows acting from the page; the page follows the switch live.
            set_button = card.get_by_role("button", name="Set")
            await expect(set_button).to_be_disabled()
            sb.configure(web_actions=True)
            await expect(set_button).to_be_enabled()

            await set_button.click()
            modal = page.get_by_role("dialog", name="Checklist item")
            await expect(modal).to_be_visible()
            await modal.get_by_role("button", name="Save").click()  # too early: Slack's client refuses
            await expect(modal.get_by_role("alert").filter(has_text="is required")).to_contain_text(
                "input 'Owner' is required"
            )
            await modal.get_by_label("Owner").select_option(label="Bob Data")
            await modal.get_by_label("Stale").check()
            await modal.get_by_label("Note").fill("Loader stuck since 06:00; backfill running")
            await modal.get_by_role("button", name="Save").click()

            await expect(modal).to_be_hidden()
            await expect(card).to_contain_text(f"{ITEM}: Stale · owner @Bob Data")
            await expect(card).to_contain_text("Loader stuck since 06:00")
            await expect(page.locator(".msg.ephemeral")).to_contain_text("Only visible to you")
            await card.get_by_role("button", name="1 reply").click()
            await expect(card.locator(".replies")).to_contain_text("newest row 6 h old")
            assert await page.title() != "owned"

            await card.get_by_role("button", name="1 reply").click()  # collapse again for the picture
            shot = tmp_path / "page.png"
            await page.screenshot(path=str(shot))
        finally:
            await browser.close()

    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000
    [submission] = [c for c in sb.calls("chat.update") if c.ok]
    assert submission.args["ts"] == sb.messages(ops)[0].ts
    assert sb.calls("views.open")[0].ok
    sb.assert_no_violations()
