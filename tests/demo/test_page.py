"""The stand-in's page that `handoff demo` links to opens on the incident channel, in a real headless Chromium
(Debian's /usr/bin/chromium and Playwright for Python; missing either fails, never skips)."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from rich.console import Console

from bot.demo.runner import DemoOptions, run_demo
from bot.demo.transcript import Transcript
from slack_sandbox import SlackSandbox

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
INSTALL_HINT = (
    "install the browser: `apt-get install -y chromium` and `.venv/bin/pip install playwright` "
    "(never `playwright install`: the test uses /usr/bin/chromium)"
)


def _playwright() -> Any:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail(f"Playwright for Python is missing: {INSTALL_HINT}")
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL_HINT}")
    return async_playwright


async def test_the_printed_url_opens_the_incident_channel() -> None:
    """While the demo serves its page, the URL it printed last shows the incident channel with the decision."""
    async_playwright = _playwright()
    from playwright.async_api import expect

    console = Console(record=True, width=200, force_terminal=False)
    seen: dict[str, str] = {}

    async def look() -> None:
        text = console.export_text(clear=False)
        last = text.strip().splitlines()[-1]
        found = re.match(r"^Open #(\S+) in the Slack stand-in \(Ctrl-C to stop\): (\S+)$", last)
        assert found, last
        channel, url = found.groups()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1200, "height": 900})
                page.set_default_timeout(8000)
                await page.goto(url)
                await expect(page.locator("#channel-header h1")).to_have_text(f"# {channel}")
                await expect(page.locator("#messages")).to_contain_text("Ownership decided: DataOps")
                await expect(page.locator("#person")).to_have_value(re.compile(r"^U"))
                seen["person"] = await page.locator("#person option:checked").inner_text()
                seen["address"] = page.url
            finally:
                await browser.close()

    code = await run_demo(DemoOptions(), Transcript(console), serve=look)
    assert code == 0, console.export_text()
    assert "@dana" in seen["person"]
    assert "channel=inc-" in seen["address"]


async def test_a_linked_channel_made_later_is_shown_when_it_appears() -> None:
    """Opened before the channel exists (the demo's early link), the page shows #general, then switches to
    the linked channel as soon as it is made, and keeps the link in the address meanwhile."""
    async_playwright = _playwright()
    from playwright.async_api import expect

    async with SlackSandbox() as sb:
        alice = sb.add_user("alice", real_name="Alice Ops")
        sb.add_channel("general", members=[alice], is_general=True)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page()
                page.set_default_timeout(8000)
                await page.goto(f"{sb.base_url}/?as=alice&channel=inc-later")
                header = page.locator("#channel-header h1")
                await expect(header).to_have_text("# general")
                assert "channel=inc-later" in page.url
                later = sb.add_channel("inc-later", members=[alice])
                await sb.say(alice, later, "the incident channel")
                await expect(header).to_have_text("# inc-later")
                await expect(page.locator("#messages")).to_contain_text("the incident channel")
                await page.locator("#channels button", has_text="general").click()
                await expect(header).to_have_text("# general")
                assert "channel=general" in page.url
            finally:
                await browser.close()
