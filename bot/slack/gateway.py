"""SlackGateway: the Web API calls the bot makes, with retries, rate limits and errors in plain words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.errors import SlackCallFailed

log = structlog.get_logger(__name__)

__all__ = ["SlackCallFailed", "SlackGateway", "make_client", "retry_handlers"]


def retry_handlers(max_retries: int = 5) -> list[AsyncRetryHandler]:
    """429 honoured with Retry-After, 5xx and dropped connections retried with backoff (slack_sdk's own)."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=max_retries),
        AsyncServerErrorRetryHandler(max_retry_count=max_retries),
        AsyncConnectionErrorRetryHandler(max_retry_count=max_retries),
    ]


def make_client(token: str, base_url: str, timeout: int = 30) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=retry_handlers())


def _blocks(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


class SlackGateway:
    """Every Web API method the bot uses goes through here (manifest scopes are checked against this file)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            log.warning("slack.call_failed", method=method, error=error)
            raise SlackCallFailed(method, error) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def _get(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """Read methods that Slack serves over GET take query arguments."""
        try:
            response = await self.client.api_call(method, http_verb="GET", params=kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            log.warning("slack.call_failed", method=method, error=error)
            raise SlackCallFailed(method, error) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def auth_test(self) -> dict[str, Any]:
        return await self._call("auth.test")

    async def create_channel(self, name: str, private: bool) -> dict[str, Any]:
        data = await self._call("conversations.create", name=name, is_private=private)
        return dict(data["channel"])

    async def find_channel(self, name: str, private: bool) -> dict[str, Any] | None:
        """A channel by its exact name (used to adopt one created before a crash)."""
        cursor = ""
        types = "private_channel" if private else "public_channel"
        while True:
            data = await self._get(
                "conversations.list", types=types, limit=200, cursor=cursor, exclude_archived=True
            )
            for channel in data.get("channels", []):
                if channel.get("name") == name:
                    return dict(channel)
            cursor = data.get("response_metadata", {}).get("next_cursor", "")
            if not cursor:
                return None

    async def invite(self, channel: str, users: Sequence[str]) -> dict[str, str]:
        """Invite users 100 at a time; returns the users that could not be invited with Slack's reason."""
        failed: dict[str, str] = {}
        for start in range(0, len(users), 100):
            batch = list(users[start : start + 100])
            try:
                data = await self._call(
                    "conversations.invite", channel=channel, users=",".join(batch), force=True
                )
            except SlackCallFailed as exc:
                if exc.error == "already_in_channel":
                    continue
                if len(batch) == 1:
                    failed[batch[0]] = exc.error
                    continue
                # Without per-user errors, retry one by one so one bad user does not block the rest.
                for user in batch:
                    failed.update(await self.invite(channel, [user]))
                continue
            for err in data.get("errors", []) or []:
                if err.get("error") != "already_in_channel":
                    failed[str(err.get("user"))] = str(err.get("error"))
        return failed

    async def usergroup_members(self, usergroup: str) -> list[str]:
        data = await self._get("usergroups.users.list", usergroup=usergroup)
        return [str(u) for u in data.get("users", [])]

    async def channel_members(self, channel: str) -> list[str]:
        """Every member of a channel, page by page (who may see a private incident)."""
        members: list[str] = []
        cursor = ""
        while True:
            data = await self._get("conversations.members", channel=channel, limit=200, cursor=cursor)
            members.extend(str(u) for u in data.get("members", []))
            cursor = data.get("response_metadata", {}).get("next_cursor", "")
            if not cursor:
                return members

    async def set_topic(self, channel: str, topic: str) -> None:
        await self._call("conversations.setTopic", channel=channel, topic=topic)

    async def post(
        self, channel: str, text: str, blocks: Sequence[Block] = (), thread_ts: str | None = None
    ) -> str:
        args: dict[str, Any] = {"channel": channel, "text": text}
        if blocks:
            args["blocks"] = _blocks(blocks)
        if thread_ts:
            args["thread_ts"] = thread_ts
        data = await self._call("chat.postMessage", **args)
        return str(data["ts"])

    async def update(self, channel: str, ts: str, text: str, blocks: Sequence[Block]) -> None:
        await self._call("chat.update", channel=channel, ts=ts, text=text, blocks=_blocks(blocks))

    async def pin(self, channel: str, ts: str) -> None:
        try:
            await self._call("pins.add", channel=channel, timestamp=ts)
        except SlackCallFailed as exc:
            if exc.error != "already_pinned":
                raise

    async def ephemeral(self, channel: str, user: str, text: str, blocks: Sequence[Block] = ()) -> None:
        args: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if blocks:
            args["blocks"] = _blocks(blocks)
        await self._call("chat.postEphemeral", **args)

    async def open_view(self, trigger_id: str, view: View) -> None:
        await self._call("views.open", trigger_id=trigger_id, view=view.to_dict())

    async def history(self, channel: str, limit: int = 100) -> list[dict[str, Any]]:
        data = await self._get("conversations.history", channel=channel, limit=limit)
        return [dict(m) for m in data.get("messages", [])]
