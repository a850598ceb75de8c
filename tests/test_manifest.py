"""The Slack app manifest grants a scope for every Web API method the code calls."""

from __future__ import annotations

import json
import re

import yaml

from tests.support.reference import ROOT, method_reference

CALL = re.compile(r"""_(?:call|get)\(\s*"([a-z]+\.[A-Za-z.]+)\"""")
CLIENT = re.compile(r"client\.([a-z]+_[A-Za-z_]+)\(")


def methods_called() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        if "sandbox" in path.parts or "demo" in path.parts:
            continue  # the stand-in and the demo's simulated people are not the bot
        text = path.read_text()
        found.update(CALL.findall(text))
        # slack_sdk names methods by replacing the dots with underscores (chat_postEphemeral).
        found.update(n.replace("_", ".") for n in CLIENT.findall(text) if n != "api_call")
    return found


def bot_scopes(method: str) -> list[str]:
    data = json.loads(method_reference(method).read_text())
    return list((data.get("scope") or {}).get("bot") or [])


class TestManifest:
    def test_scopes_cover_every_method_called(self) -> None:
        """Every method the bot calls needs one of its bot scopes in manifest.yaml."""
        manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
        granted = set(manifest["oauth_config"]["scopes"]["bot"])
        called = methods_called()
        assert {"chat.postMessage", "conversations.create", "conversations.invite", "pins.add"} <= called
        missing = {m: bot_scopes(m) for m in called if bot_scopes(m) and not set(bot_scopes(m)) & granted}
        assert missing == {}

    def test_manifest_urls_and_command(self) -> None:
        """Commands, interactivity and events all point at the one /slack/events URL."""
        manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
        urls = {c["url"] for c in manifest["features"]["slash_commands"]}
        urls.add(manifest["settings"]["interactivity"]["request_url"])
        urls.add(manifest["settings"]["event_subscriptions"]["request_url"])
        assert len(urls) == 1
        assert next(iter(urls)).endswith("/slack/events")
        assert manifest["features"]["slash_commands"][0]["command"] == "/incident"

    def test_method_names_are_real(self) -> None:
        """Every method name found in the code exists in Slack's reference."""
        for method in methods_called():
            assert method_reference(method).exists(), method
