"""Rate tiers per token and method, chat.postMessage per channel, and injected faults."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from slack_sandbox import SandboxClock, SlackSandbox


@pytest.fixture
def frozen() -> Iterator[SlackSandbox]:
    """A sandbox whose clock only moves when the test advances it, with rate limits on."""
    with SlackSandbox(clock=SandboxClock(frozen=True), rate_limits=True) as sandbox:
        yield sandbox


def status_and_retry(client: WebClient, method: str, **kwargs: object) -> tuple[int, str | None]:
    try:
        resp = client.api_call(method, params=dict(kwargs))
    except SlackApiError as err:
        return err.response.status_code, err.response.headers.get("Retry-After")
    return resp.status_code, None


def test_rate_limiting_is_off_by_default(sb: SlackSandbox, web: WebClient) -> None:
    for _ in range(30):
        web.usergroups_list()  # tier 2: 20 per minute when enforced


@pytest.mark.parametrize(
    ("method", "tier", "per_minute", "args"),
    [
        ("usergroups.list", "t2", 20, {}),
        ("users.lookupByEmail", "t3", 50, {"email": "a@example.com"}),
        ("users.info", "t4", 100, {"user": "U0X"}),
    ],
)
def test_tier_limit_then_429_with_retry_after(
    frozen: SlackSandbox, method: str, tier: str, per_minute: int, args: dict[str, str]
) -> None:
    frozen.add_user("a", email="a@example.com")
    client = WebClient(token=frozen.bot_token, base_url=frozen.api_url, retry_handlers=[])
    frozen.configure_rate_limits(burst={tier: 3})  # a small burst keeps the test short
    for _ in range(3):
        status, _ = status_and_retry(client, method, **args)
        assert status == 200
    status, retry_after = status_and_retry(client, method, **args)
    assert status == 429
    assert retry_after == str(max(1, -(-60 // per_minute)))  # whole seconds until the next call fits
    answer = frozen.calls(method)[-1]
    assert (answer.status, answer.response) == (429, {"ok": False, "error": "ratelimited"})
    # Per token and per method: another token, or another method, is not affected.
    other = WebClient(
        token=frozen.issue_token(frozen.ws.tokens[frozen.bot_token].scopes), base_url=frozen.api_url
    )
    assert status_and_retry(other, method, **args)[0] == 200
    assert status_and_retry(client, "auth.test")[0] == 200
    frozen.clock.advance(float(retry_after or 0))
    assert status_and_retry(client, method, **args)[0] == 200


def test_tier_one_is_one_a_minute(frozen: SlackSandbox) -> None:
    # No modelled method is tier 1; re-tier one to show the bucket: 1 call, then 60 s.
    frozen.configure_rate_limits(per_minute={"t2": 1}, burst={"t2": 1})
    client = WebClient(token=frozen.bot_token, base_url=frozen.api_url, retry_handlers=[])
    assert status_and_retry(client, "usergroups.list")[0] == 200
    assert status_and_retry(client, "usergroups.list") == (429, "60")


def test_post_message_per_channel(frozen: SlackSandbox) -> None:
    a = frozen.add_channel("a", members=[frozen.bot])
    b = frozen.add_channel("b", members=[frozen.bot])
    client = WebClient(token=frozen.bot_token, base_url=frozen.api_url, retry_handlers=[])
    for i in range(3):  # the default burst
        assert status_and_retry(client, "chat.postMessage", channel=a.id, text=str(i))[0] == 200
    assert status_and_retry(client, "chat.postMessage", channel=a.id, text="x") == (429, "1")
    assert status_and_retry(client, "chat.postMessage", channel=b.id, text="y")[0] == 200
    frozen.clock.advance(1)
    assert status_and_retry(client, "chat.postMessage", channel=a.id, text="z")[0] == 200
    assert [m.text for m in frozen.messages(a)] == ["0", "1", "2", "z"]


async def test_slack_sdk_retry_handler_honours_retry_after(sb: SlackSandbox) -> None:
    sb.inject("auth.test", "429", retry_after=1)
    client = AsyncWebClient(
        token=sb.bot_token,
        base_url=sb.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert (await client.auth_test())["ok"]
    assert [c.status for c in sb.calls("auth.test")] == [429, 200]


# ---- faults -----------------------------------------------------------------------------------------
def test_fault_429(sb: SlackSandbox, web: WebClient) -> None:
    sb.inject("conversations.create", fault="429", count=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            web.conversations_create(name="later")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "7"
        assert err.value.response["error"] == "ratelimited"
    assert web.conversations_create(name="later")["ok"]  # the third call is normal again
    assert [c.fault for c in sb.calls()] == ["429", "429", None]


def test_fault_500(sb: SlackSandbox, web: WebClient) -> None:
    sb.inject("conversations.create", fault="500")
    with pytest.raises(SlackApiError) as err:
        web.conversations_create(name="boom")
    assert err.value.response.status_code == 500
    assert err.value.response["error"] == "fatal_error"
    assert sb.channel_by_name("boom") is None


async def test_fault_drop_closes_the_connection_without_effect(sb: SlackSandbox) -> None:
    sb.inject("conversations.create", fault="drop")
    client = AsyncWebClient(token=sb.bot_token, base_url=sb.api_url, retry_handlers=[])
    with pytest.raises(aiohttp.ClientError):
        await client.conversations_create(name="dropped")
    assert sb.channel_by_name("dropped") is None
    assert (await client.conversations_create(name="dropped"))["ok"]


def test_fault_slow_takes_effect_then_answers_late(sb: SlackSandbox) -> None:
    sb.inject("conversations.create", fault="slow", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            sb.api_url + "conversations.create",
            data={"name": "slowpoke"},
            headers={"Authorization": f"Bearer {sb.bot_token}"},
            timeout=0.1,
        )
    assert sb.channel_by_name("slowpoke") is not None  # a client retry would now meet name_taken


def test_fault_error_code(sb: SlackSandbox, web: WebClient) -> None:
    sb.inject("chat.postMessage", fault="error", error="message_limit_exceeded")
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "message_limit_exceeded"
    with pytest.raises(ValueError, match="not documented"):
        sb.inject("chat.postMessage", fault="error", error="name_taken")


def test_fault_for_any_method_and_clear(sb: SlackSandbox, web: WebClient) -> None:
    sb.inject("*", fault="500", count=5)
    with pytest.raises(SlackApiError):
        web.auth_test()
    assert len(sb.faults.pending()) == 1
    sb.clear_faults()
    assert web.auth_test()["ok"]
    with pytest.raises(ValueError, match="unknown fault"):
        sb.inject("auth.test", fault="explode")
