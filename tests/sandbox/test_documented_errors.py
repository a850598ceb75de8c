"""Every error the stand-in can answer is documented for the method or common to all methods."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_sandbox import SlackSandbox, load_reference
from slack_sandbox.errors import SlackError
from slack_sandbox.methods import REGISTRY, CallContext, MethodImpl
from slack_sandbox.webapi import PIPELINE_CODES, declared_codes

REFERENCE = load_reference()
REQUIRED = {
    "auth.test",
    "conversations.create",
    "conversations.info",
    "conversations.invite",
    "conversations.join",
    "conversations.members",
    "conversations.history",
    "conversations.setTopic",
    "conversations.setPurpose",
    "conversations.archive",
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "views.open",
    "views.update",
    "views.push",
    "views.publish",
    "users.info",
    "users.lookupByEmail",
    "usergroups.list",
    "usergroups.users.list",
    "bookmarks.add",
    "pins.add",
    "reactions.add",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
}


def test_every_required_method_is_implemented() -> None:
    assert sorted(REQUIRED - set(REGISTRY)) == []


def test_pipeline_codes_are_common() -> None:
    assert REFERENCE.common_errors >= PIPELINE_CODES


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_declared_errors_are_documented(method: str) -> None:
    spec = REFERENCE.method(method)
    assert spec is not None, f"{method} is not a Slack method"
    declared = declared_codes(spec, REGISTRY[method])
    undocumented = declared - REFERENCE.allowed_errors(method)
    assert undocumented == set(), f"{method} may answer undocumented {sorted(undocumented)}"


def test_runtime_assertion_refuses_undeclared_or_undocumented_codes(
    sb: SlackSandbox, web: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: CallContext) -> dict[str, object]:
        raise SlackError("name_taken")  # documented for conversations.create, not for auth.test

    monkeypatch.setitem(REGISTRY, "auth.test", MethodImpl("auth.test", broken, frozenset({"name_taken"})))
    with pytest.raises(SlackApiError) as err:
        web.auth_test()
    assert err.value.response.status_code == 500
    assert "auth.test would answer 'name_taken'" in sb.internal_errors[0]
    sb.internal_errors.clear()  # expected here; the fixture fails on any other

    monkeypatch.setitem(REGISTRY, "users.info", MethodImpl("users.info", broken, frozenset()))
    with pytest.raises(SlackApiError):
        web.users_info(user="U1")
    assert "does not declare" in sb.internal_errors[0] or "would answer" in sb.internal_errors[0]
    sb.internal_errors.clear()
