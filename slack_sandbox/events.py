"""Events API traffic: raw events, and the events people cause by talking, joining, opening Home."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any

from slack_sandbox import payloads
from slack_sandbox.base import SandboxBase
from slack_sandbox.errors import SandboxError
from slack_sandbox.inbound import Ack, EventDelivery
from slack_sandbox.models import JSON, Channel, Message, User
from slack_sandbox.protocols import ChannelRef, UserRef
from slack_sandbox.serialize import view_json


class EventActions(SandboxBase):
    """Send events to the app the way Slack does (signed, timed, retried)."""

    def _event_fields(self, fields: Mapping[str, Any]) -> JSON:
        out: JSON = {}
        for key, value in fields.items():
            if isinstance(value, (User, Channel)):
                value = value.id
            out[key] = value
        return out

    async def send_event(
        self, event_type: str, *, event_id: str | None = None, wait_retries: bool = False, **fields: Any
    ) -> EventDelivery:
        """Send an Events API ``event_callback`` of ``event_type`` (always, regardless of subscriptions).

        Fields fill the inner event (User/Channel objects become ids); ``event_ts``/``ts`` default to
        a fresh timestamp. Returns after the first attempt; ``await delivery.wait()`` for the retries.
        """
        with self.ws.lock:
            event = {"type": event_type, **self._event_fields(fields)}
            ts = self.ws.next_ts()
            event.setdefault("event_ts", ts)
            if event_type in ("message", "app_mention"):
                event.setdefault("ts", event["event_ts"])
                event.setdefault("text", "")
                event.setdefault("team", self.ws.team_id)
            envelope = payloads.event_envelope(self.ws, event, event_id=event_id)
        delivery = await self._deliver(envelope)
        if wait_retries:
            await delivery.wait()
        return delivery

    async def _deliver(self, envelope: JSON) -> EventDelivery:
        delivery = EventDelivery(event_id=str(envelope["event_id"]), envelope=envelope)
        return await self._run(self.inbound.deliver_event(delivery))

    async def _maybe_send(self, event: JSON) -> EventDelivery | None:
        if event.get("type") not in self.event_subscriptions or not self.inbound.can_deliver():
            return None
        with self.ws.lock:
            envelope = payloads.event_envelope(self.ws, event)
        return await self._deliver(envelope)

    async def say(
        self, user: UserRef, channel: ChannelRef, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """Post a message as a person. The app gets ``message`` and, when mentioned, ``app_mention``
        events if subscribed and a member of the channel (as in Slack)."""
        with self.ws.lock:
            u = self.ws.resolve_user(user)
            ch = self._visible_channel(u, channel)
            if u.id not in ch.members and not ch.is_im:
                raise SandboxError(f"{u.name} is not in #{ch.name}")
            if ch.is_archived:
                raise SandboxError(f"#{ch.name} is archived")
            msg = self.ws.add_message(
                Message(
                    ts=self.ws.next_ts(),
                    channel=ch.id,
                    user=u.id,
                    text=text,
                    blocks=payloads.rich_text_of(text),
                    thread_ts=(self.ws.thread_root(ch.id, thread_ts) or thread_ts) if thread_ts else None,
                    source="person",
                )
            )
            events = []
            if self.ws.bot_user.id in ch.members:
                events.append(payloads.message_event(self.ws, msg, ch))
                if f"<@{self.ws.bot_user.id}>" in text:
                    events.append(payloads.message_event(self.ws, msg, ch, kind="app_mention"))
            snapshot = copy.deepcopy(msg)
        for event in events:
            await self._maybe_send(event)
        return snapshot

    async def mention(
        self, user: UserRef, channel: ChannelRef, text: str = "", *, thread_ts: str | None = None
    ) -> Message:
        """``say`` with the bot mentioned first: ``<@BOT> text``."""
        return await self.say(user, channel, f"<@{self.bot_user_id}> {text}".rstrip(), thread_ts=thread_ts)

    async def join(self, user: UserRef, channel: ChannelRef) -> None:
        """The person joins ``channel``; the app hears member_joined_channel if subscribed and a member."""
        from slack_sandbox.methods.conversations import system_message

        with self.ws.lock:
            u = self.ws.resolve_user(user)
            ch = self._visible_channel(u, channel)
            if u.id in ch.members:
                return
            ch.members.append(u.id)
            system_message(self.ws, ch, u.id, "channel_join", f"<@{u.id}> has joined the channel")
            event: JSON = {
                "type": "member_joined_channel",
                "user": u.id,
                "channel": ch.id,
                "channel_type": "G" if ch.is_private else "C",
                "team": self.ws.team_id,
                "event_ts": self.ws.next_ts(),
            }
            bot_in = self.ws.bot_user.id in ch.members
        if bot_in:
            await self._maybe_send(event)

    async def open_home(self, user: UserRef, tab: str = "home") -> EventDelivery | None:
        """The person opens the app's Home (or Messages) tab: app_home_opened, if subscribed."""
        with self.ws.lock:
            u = self.ws.resolve_user(user)
            dm = self.ws.dm_channel(u.id)
            event: JSON = {
                "type": "app_home_opened",
                "user": u.id,
                "channel": dm.id,
                "tab": tab,
                "event_ts": self.ws.next_ts(),
            }
            home = self.ws.views.get(self.ws.home_views.get(u.id, ""))
            if home is not None and tab == "home":
                event["view"] = view_json(self.ws, home)
        return await self._maybe_send(event)

    async def url_verification(self, challenge: str | None = None) -> Ack:
        """Slack's request-URL check: the app must echo the challenge."""
        challenge = challenge or secrets.token_urlsafe(24)
        with self.ws.lock:
            payload = payloads.url_verification(self.ws, challenge)
        ack = await self._run(self.inbound.send_json("url_verification", payload))
        data = ack.json()
        echoed = data.get("challenge") if isinstance(data, dict) else ack.body.strip()
        if ack.ok and echoed != challenge:
            self.ws.record_violation("url_verification", f"challenge not echoed: {ack.body[:100]!r}")
        return ack
