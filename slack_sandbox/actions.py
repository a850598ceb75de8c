"""What people do in Slack: slash commands, clicks, picks, typing into modals, submitting, closing."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from slack_sandbox import payloads
from slack_sandbox.base import SandboxBase
from slack_sandbox.errors import ClientSideError, NotFoundError, SandboxError
from slack_sandbox.inbound import Ack
from slack_sandbox.interactions import apply_view_ack, close_all, close_top, show_command_ack
from slack_sandbox.models import JSON, Channel, Ephemeral, User, View
from slack_sandbox.person import (
    Target,
    action_for,
    client_checks,
    find_target,
    full_state,
    input_blocks,
    interactive_elements,
    label,
    resolve_input,
    state_entry,
    surfaces_for,
    value_state,
)
from slack_sandbox.protocols import ChannelRef, UserRef, ViewRef

# Elements a person picks a value in (``select``), as opposed to buttons and option menus (``click``).
_PICKERS = frozenset(
    {
        "static_select",
        "multi_static_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "datepicker",
        "timepicker",
        "radio_buttons",
        "checkboxes",
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
    }
)


class PersonActions(SandboxBase):
    """The person-like half of the test API (each call returns what Slack got back)."""

    async def slash_command(
        self, user: UserRef, command: str, text: str = "", *, channel: ChannelRef | None = None
    ) -> Ack:
        """Type ``/command text`` in ``channel`` (default: the app DM); the ack body shows as in Slack."""
        if not command.startswith("/"):
            raise SandboxError(f"slash commands start with '/': {command!r}")
        with self.ws.lock:
            u = self.ws.resolve_user(user)
            ch = self._visible_channel(u, channel)
            trig = self.ws.issue_trigger(u.id)
            ru = self.ws.issue_response_url(self.base_url, kind="command", user_id=u.id, channel_id=ch.id)
            form = payloads.slash_command_form(
                self.ws, u, ch, command, text, response_url=ru.url, trigger_id=trig.id
            )
        ack = await self._run(self.inbound.send_form("slash_command", form))
        show_command_ack(self.ws, ack, u.id, ch)
        return ack

    async def click(
        self,
        user: UserRef,
        text: str | None = None,
        *,
        channel: ChannelRef | None = None,
        message_ts: str | None = None,
        view: ViewRef | None = None,
        block_id: str | None = None,
        action_id: str | None = None,
        value: str | None = None,
        confirm: bool = True,
    ) -> Ack | None:
        """Click a button, or choose a menu/overflow/radio/checkbox option, found by its visible text.

        Looks in the open modal, App Home, the user's ephemerals, then messages (latest first), unless
        ``view=`` or ``channel=``/``message_ts=`` say where. With a confirm dialog the person confirms,
        unless ``confirm=False`` (then nothing is sent and None is returned).
        """
        with self.ws.lock:
            u = self.ws.resolve_user(user)
            ch = self._channel_or_dm(channel) if channel is not None else None
            v = self._view(u, view) if view is not None else None
            target = find_target(
                self.ws,
                u,
                text,
                channel=ch,
                message_ts=message_ts,
                view=v,
                block_id=block_id,
                action_id=action_id,
                value=value,
            )
            if target.element.get("confirm") and not confirm:
                return None
            payload = self._action_payload(u, target, None)
        return await self._run(self.inbound.send_interaction("block_actions", payload))

    async def select(
        self,
        user: UserRef,
        label_text: str,
        value: Any,
        *,
        channel: ChannelRef | None = None,
        message_ts: str | None = None,
        view: ViewRef | None = None,
    ) -> Ack:
        """Pick ``value`` (option text, a User, a channel, a date...) in the menu or picker whose
        placeholder, input label or action_id is ``label_text``; sends block_actions."""
        with self.ws.lock:
            u = self.ws.resolve_user(user)
            ch = self._channel_or_dm(channel) if channel is not None else None
            v = self._view(u, view) if view is not None else None
            target = self._find_picker(u, label_text, ch, message_ts, v)
            payload = self._action_payload(u, target, value)
        return await self._run(self.inbound.send_interaction("block_actions", payload))

    def _find_picker(
        self, u: User, label_text: str, ch: Channel | None, ts: str | None, v: View | None
    ) -> Target:
        seen: list[str] = []
        for source, src_ch in surfaces_for(self.ws, u, channel=ch, message_ts=ts, view=v):
            for block, el in interactive_elements(source.blocks):
                if el.get("type") not in _PICKERS:
                    continue
                names = {label(el.get("placeholder")), label(block.get("label")), str(el.get("action_id"))}
                if label_text in names:
                    return Target(source=source, channel=src_ch, block=block, element=el)
                seen.extend(n for n in names if n)
        raise NotFoundError(f"no menu or picker {label_text!r}; visible: {seen[:20] or 'nothing'}")

    def _action_payload(self, u: User, target: Target, picked: Any) -> JSON:
        bid, aid = str(target.block.get("block_id")), str(target.element.get("action_id"))
        src = target.source
        if isinstance(src, View):
            action = action_for(target, self.ws, picked=picked, state=src.state.get(bid, {}).get(aid))
            if target.element.get("type") in _PICKERS:
                src.state.setdefault(bid, {})[aid] = state_entry(action)
            trig = self.ws.issue_trigger(u.id, view_id=src.id if src.type == "modal" else None)
            payload = payloads.block_actions_from_view(self.ws, u, src, [action], trigger_id=trig.id)
            payload["view"]["state"]["values"] = full_state(src.blocks, src.state)
            return payload
        assert target.channel is not None
        key = (u.id, target.channel.id, src.ts)
        entered = self._message_state.setdefault(key, {})
        action = action_for(target, self.ws, picked=picked, state=entered.get(bid, {}).get(aid))
        if target.element.get("type") in _PICKERS:
            entered.setdefault(bid, {})[aid] = state_entry(action)
        trig = self.ws.issue_trigger(u.id)
        ru = self.ws.issue_response_url(
            self.base_url,
            kind="action",
            user_id=u.id,
            channel_id=target.channel.id,
            source_ts=src.ts,
            source_ephemeral=isinstance(src, Ephemeral),
            thread_ts=src.thread_ts,
        )
        return payloads.block_actions_from_message(
            self.ws,
            u,
            target.channel,
            src,
            [action],
            state=full_state(src.blocks, entered),
            trigger_id=trig.id,
            response_url=ru.url,
        )

    async def fill(
        self, user: UserRef, values: Mapping[str, Any], *, view: ViewRef | None = None
    ) -> list[Ack]:
        """Type/pick values into inputs of the open view, keyed by label (or block_id/action_id).
        Inputs with ``dispatch_action`` send block_actions, as Slack does."""
        acks: list[Ack] = []
        for key, value in values.items():
            with self.ws.lock:
                u = self.ws.resolve_user(user)
                v = self._view(u, view)
                block = resolve_input(v.blocks, key)
                el = block["element"]
                st = value_state(self.ws, el, value)
                v.state.setdefault(str(block["block_id"]), {})[str(el["action_id"])] = st
                payload = None
                if block.get("dispatch_action"):
                    payload = self._action_payload(
                        u, Target(source=v, channel=None, block=block, element=el), value
                    )
            if payload is not None:
                acks.append(await self._run(self.inbound.send_interaction("block_actions", payload)))
        return acks

    async def submit_view(
        self,
        user: UserRef,
        view: ViewRef | None = None,
        values: Mapping[str, Any] | None = None,
        *,
        times: int = 1,
    ) -> Ack:
        """Fill ``values`` (by input label) and press Submit on the top modal (or the one named by
        id, title or callback_id). The app's response_action is applied; see ``Ack.errors``.
        ``times=2`` delivers the same submission twice at once, as a double click does."""
        if values:
            await self.fill(user, values, view=view)
        with self.ws.lock:
            u = self.ws.resolve_user(user)
            v = self._view(u, view, modal_only=True)
            if self.ws.modal_stack(u.id)[-1].id != v.id:
                raise ClientSideError(
                    f"{v.title!r} is under another modal; only the top one can be submitted"
                )
            if "submit" not in v.definition:
                raise ClientSideError(f"{v.title!r} has no submit button")
            state = full_state(v.blocks, v.state)
            client_checks(v.blocks, state)
            v.state = state
            trig = self.ws.issue_trigger(u.id, view_id=v.id)
            payload = payloads.view_submission(
                self.ws, u, v, trigger_id=trig.id, response_urls=self._response_urls(u, v, state)
            )
        # times > 1: a double-clicked Submit, the same payload delivered concurrently (the app must dedupe).
        acks = await asyncio.gather(
            *(self._run(self.inbound.send_interaction("view_submission", payload)) for _ in range(times))
        )
        ack = acks[0]
        apply_view_ack(self.ws, self.config, ack, u.id, v)
        return ack

    def _response_urls(self, u: User, v: View, state: Mapping[str, Mapping[str, JSON]]) -> list[JSON]:
        out: list[JSON] = []
        for block in input_blocks(v.blocks):
            el = block["element"]
            if not el.get("response_url_enabled"):
                continue
            st = state.get(str(block["block_id"]), {}).get(str(el["action_id"]), {})
            cid = st.get("selected_conversation") or st.get("selected_channel")
            if cid:
                ru = self.ws.issue_response_url(self.base_url, kind="view", user_id=u.id, channel_id=str(cid))
                out.append(
                    {
                        "block_id": block["block_id"],
                        "action_id": el["action_id"],
                        "channel_id": cid,
                        "response_url": ru.url,
                    }
                )
        return out

    async def close_view(self, user: UserRef, view: ViewRef | None = None) -> Ack | None:
        """Press Close (or the x) on the top modal; view_closed is sent if the view asked for it."""
        with self.ws.lock:
            u = self.ws.resolve_user(user)
            v = self._view(u, view, modal_only=True)
            if self.ws.modal_stack(u.id)[-1].id != v.id:
                raise ClientSideError(f"{v.title!r} is under another modal; only the top one can be closed")
            cleared = bool(v.definition.get("clear_on_close"))
            if cleared:
                close_all(self.ws, u.id)
            else:
                close_top(self.ws, u.id)
            if not v.definition.get("notify_on_close"):
                return None
            payload = payloads.view_closed(self.ws, u, v, is_cleared=cleared)
        return await self._run(self.inbound.send_interaction("view_closed", payload))

    async def shortcut(self, user: UserRef, callback_id: str) -> Ack:
        """Run a global shortcut."""
        with self.ws.lock:
            u = self.ws.resolve_user(user)
            trig = self.ws.issue_trigger(u.id)
            payload = payloads.global_shortcut(self.ws, u, callback_id, trigger_id=trig.id)
        return await self._run(self.inbound.send_interaction("shortcut", payload))

    async def message_shortcut(
        self, user: UserRef, callback_id: str, channel: ChannelRef, message_ts: str | None = None
    ) -> Ack:
        """Run a message shortcut on ``message_ts`` (default: the latest message in ``channel``)."""
        with self.ws.lock:
            u = self.ws.resolve_user(user)
            ch = self._visible_channel(u, channel)
            msgs = [m for m in self.ws.messages.get(ch.id, []) if not m.deleted]
            msg = (
                next((m for m in msgs if m.ts == message_ts), None)
                if message_ts
                else (msgs[-1] if msgs else None)
            )
            if msg is None:
                raise NotFoundError(f"no message {message_ts or '(latest)'} in {ch.name}")
            trig = self.ws.issue_trigger(u.id)
            ru = self.ws.issue_response_url(
                self.base_url, kind="action", user_id=u.id, channel_id=ch.id, source_ts=msg.ts
            )
            payload = payloads.message_shortcut(
                self.ws, u, callback_id, ch, msg, trigger_id=trig.id, response_url=ru.url
            )
        return await self._run(self.inbound.send_interaction("message_action", payload))
