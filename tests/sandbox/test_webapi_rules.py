"""Transport rules of the Web API: verb, body types, coercion, required/typed/unknown args, tokens, scopes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_sandbox import SlackSandbox

HTTP = httpx.Client(trust_env=False)  # one client: building one per call costs an SSL context each


def call(
    sb: SlackSandbox,
    method: str,
    *,
    verb: str = "POST",
    form: dict[str, str] | None = None,
    json_body: Any = None,
    params: dict[str, str] | None = None,
    token: str | None = "default",
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> dict[str, Any]:
    hdrs = dict(headers or {})
    if token == "default":
        token = sb.bot_token
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    resp = HTTP.request(
        verb, sb.api_url + method, data=form, json=json_body, params=params, headers=hdrs, content=content
    )
    body: dict[str, Any] = resp.json()
    body["_status"] = resp.status_code
    return body


def kinds(sb: SlackSandbox) -> list[str]:
    return [v.kind for v in sb.violations]


# ---- HTTP verb --------------------------------------------------------------------------------------
def test_get_only_where_documented_post_everywhere(sb: SlackSandbox) -> None:
    ch = sb.add_channel("verbs", members=[sb.bot])
    assert call(sb, "conversations.info", verb="GET", params={"channel": ch.id})["ok"]  # documented GET
    assert call(sb, "conversations.info", form={"channel": ch.id})["ok"]  # POST is fine for any method
    refused = call(sb, "chat.postMessage", verb="GET", params={"channel": ch.id, "text": "x"})
    assert refused["error"] == "unknown_method"
    assert "must be called with POST" in refused["response_metadata"]["messages"][0]
    assert "wrong_http_verb" in kinds(sb)
    assert sb.messages(ch) == []


# ---- body types -------------------------------------------------------------------------------------
def test_json_body_only_where_supported(sb: SlackSandbox) -> None:
    ch = sb.add_channel("bodies", members=[sb.bot])
    assert call(sb, "chat.postMessage", json_body={"channel": ch.id, "text": "json ok"})["ok"]
    refused = call(sb, "conversations.info", json_body={"channel": ch.id})
    assert refused["error"] == "invalid_post_type"
    assert call(sb, "conversations.info", form={"channel": ch.id})["ok"]
    assert "invalid_post_type" in kinds(sb)


def test_missing_or_bad_content_type_and_charset(sb: SlackSandbox) -> None:
    assert call(sb, "auth.test", content=b"x=1")["error"] == "missing_post_type"
    assert (
        call(sb, "auth.test", content=b"x", headers={"Content-Type": "image/png"})["error"]
        == "invalid_post_type"
    )
    bad_charset = {"Content-Type": "application/x-www-form-urlencoded; charset=ebcdic"}
    assert call(sb, "auth.test", content=b"x=1", headers=bad_charset)["error"] == "invalid_charset"
    broken = {"Content-Type": "application/json"}
    assert call(sb, "chat.postMessage", content=b"{not json", headers=broken)["error"] == "invalid_form_data"
    assert call(sb, "auth.test", form={})["ok"]  # control


def test_multipart_form_is_read(sb: SlackSandbox) -> None:
    ch = sb.add_channel("multi", members=[sb.bot])
    resp = HTTP.post(
        sb.api_url + "chat.postMessage",
        files={"channel": (None, ch.id), "text": (None, "via multipart")},
        headers={"Authorization": f"Bearer {sb.bot_token}"},
    )
    assert resp.json()["ok"]
    assert sb.messages(ch)[0].text == "via multipart"


def test_query_args_merge_with_body(sb: SlackSandbox) -> None:
    # AsyncWebClient sends POST methods' params in the query string with an empty body.
    assert call(sb, "conversations.create", params={"name": "from-query"})["ok"]


# ---- coercion and argument checks -------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "private"), [("true", True), ("1", True), ("false", False), ("0", False)])
def test_form_booleans_are_coerced(sb: SlackSandbox, raw: str, private: bool) -> None:
    made = call(sb, "conversations.create", form={"name": f"b-{raw}", "is_private": raw})
    assert made["ok"]
    assert made["channel"]["is_private"] is private


@pytest.mark.parametrize(
    ("method", "form", "code"),
    [
        ("conversations.create", {}, "invalid_name_required"),
        ("chat.postMessage", {"text": "x"}, "channel_not_found"),
        ("users.info", {}, "user_not_found"),
        ("users.lookupByEmail", {}, "users_not_found"),
        ("usergroups.users.list", {}, "no_such_subteam"),
        ("conversations.invite", {"channel": "C1"}, "no_user"),
        ("files.getUploadURLExternal", {"length": "3"}, "missing_argument"),  # the method's generic code
        ("reactions.add", {"channel": "C1", "timestamp": "1.2"}, "invalid_name"),
        ("conversations.setTopic", {"channel": "C1"}, "invalid_form_data"),  # nothing specific: common code
    ],
)
def test_missing_required_arg_uses_documented_code(
    sb: SlackSandbox, method: str, form: dict[str, str], code: str
) -> None:
    assert call(sb, method, form=form)["error"] == code
    assert "invalid_argument" in kinds(sb)


def test_required_arg_control(sb: SlackSandbox) -> None:
    alice = sb.add_user("alice")
    assert call(sb, "users.info", form={"user": alice.id})["user"]["name"] == "alice"


@pytest.mark.parametrize(
    ("method", "payload", "code"),
    [
        ("conversations.members", {"channel": "C1", "limit": "many"}, "invalid_limit"),
        ("conversations.create", {"name": "typed", "is_private": "perhaps"}, "invalid_form_data"),
        ("files.getUploadURLExternal", {"filename": "a", "length": "3.5"}, "invalid_form_data"),
    ],
)
def test_wrong_type_refused(sb: SlackSandbox, method: str, payload: dict[str, str], code: str) -> None:
    assert call(sb, method, form=payload)["error"] == code


def test_array_where_string_expected(sb: SlackSandbox) -> None:
    ch = sb.add_channel("arrays", members=[sb.bot])
    refused = call(sb, "chat.postMessage", json_body={"channel": ch.id, "text": ["a", "b"]})
    assert refused["error"] == "invalid_array_arg"
    assert call(sb, "chat.postMessage", json_body={"channel": ch.id, "text": "a"})["ok"]


def test_unknown_argument_recorded_not_silently_accepted(sb: SlackSandbox) -> None:
    ch = sb.add_channel("unknown", members=[sb.bot])
    answer = call(sb, "chat.postMessage", json_body={"channel": ch.id, "text": "hi", "colour": "red"})
    assert answer["ok"]  # Slack ignores it, so the call works...
    [violation] = sb.violations
    assert violation.kind == "unknown_argument"
    assert "colour" in violation.detail
    assert sb.calls("chat.postMessage")[0].args["colour"] == "red"


def test_team_id_is_accepted_everywhere(sb: SlackSandbox) -> None:
    assert call(sb, "auth.test", form={"team_id": sb.team_id})["ok"]
    assert sb.violations == []


# ---- authentication ---------------------------------------------------------------------------------
def test_not_authed_and_invalid_auth(sb: SlackSandbox) -> None:
    assert call(sb, "auth.test", token=None)["error"] == "not_authed"
    assert call(sb, "auth.test", token="xoxb-not-a-real-token")["error"] == "invalid_auth"
    assert call(sb, "auth.test", token=None, form={"token": sb.bot_token})["ok"]  # token as a form param
    assert call(sb, "auth.test")["ok"]  # Authorization: Bearer
    assert kinds(sb) == ["not_authed", "invalid_auth"]


def test_token_in_json_body_is_not_read(sb: SlackSandbox) -> None:
    answer = call(sb, "auth.test", token=None, json_body={"token": sb.bot_token})
    assert answer["error"] == "not_authed"
    assert "token_in_json_body" in kinds(sb)


def test_revoked_token(sb: SlackSandbox) -> None:
    token = sb.issue_token(["chat:write"])
    sb.revoke_token(token)
    assert call(sb, "auth.test", token=token)["error"] == "token_revoked"


# ---- scopes -----------------------------------------------------------------------------------------
def test_missing_scope_reports_needed_and_provided(sb: SlackSandbox) -> None:
    token = sb.issue_token(["chat:write", "users:read"])
    client = WebClient(token=token, base_url=sb.api_url)
    with pytest.raises(SlackApiError) as err:
        client.conversations_create(name="nope")
    data = err.value.response.data
    assert isinstance(data, dict)
    assert data["error"] == "missing_scope"
    assert "channels:manage" in data["needed"].split(",")
    assert data["provided"] == "chat:write,users:read"
    assert client.users_list()["ok"]  # control: a method its scopes cover


def test_scope_of_the_conversation_kind(sb: SlackSandbox) -> None:
    # groups:write covers private channels only; a public one needs channels:manage/write.
    client = WebClient(token=sb.issue_token(["groups:write"]), base_url=sb.api_url)
    assert client.conversations_create(name="secret", is_private=True)["channel"]["is_private"]
    with pytest.raises(SlackApiError) as err:
        client.conversations_create(name="public")
    assert err.value.response["needed"] == "channels:write,channels:manage"


def test_scopes_reported_in_headers(sb: SlackSandbox, web: WebClient) -> None:
    resp = web.users_list()
    assert "users:read" in resp.headers["x-oauth-scopes"].split(",")
    assert resp.headers["x-accepted-oauth-scopes"] == "users:read"


# ---- methods ----------------------------------------------------------------------------------------
def test_unknown_and_unmodelled_methods(sb: SlackSandbox) -> None:
    assert call(sb, "chat.frobnicate", form={})["error"] == "unknown_method"
    assert call(sb, "reminders.add", form={"text": "x", "time": "1"})["error"] == "unknown_method"
    assert kinds(sb) == ["unknown_method", "unimplemented_method"]


def test_calls_are_recorded(sb: SlackSandbox, web: WebClient) -> None:
    web.auth_test()
    with pytest.raises(SlackApiError):
        web.users_info(user="U0NOBODY")
    ok, failed = sb.calls()
    assert (ok.method, ok.ok, ok.status) == ("auth.test", True, 200)
    assert (failed.method, failed.error, failed.args) == (
        "users.info",
        "user_not_found",
        {"user": "U0NOBODY"},
    )
    assert sb.calls("users.info", ok=False) == [failed]
    assert json.dumps(failed.response)  # the exact answer is kept
