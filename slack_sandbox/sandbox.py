"""SlackSandbox: the test-facing stand-in for Slack — a workspace, its Web API, and people using the app."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from slack_sandbox.actions import PersonActions
from slack_sandbox.base import DEFAULT_EVENT_SUBSCRIPTIONS
from slack_sandbox.errors import NotFoundError, SandboxError
from slack_sandbox.events import EventActions
from slack_sandbox.inbound import EventDelivery
from slack_sandbox.models import (
    ApiCall,
    Channel,
    Ephemeral,
    Message,
    TopicValue,
    UploadedFile,
    User,
    UserGroup,
    View,
    Violation,
)
from slack_sandbox.protocols import ChannelRef, UserRef
from slack_sandbox.socket_actions import SocketActions

__all__ = ["DEFAULT_EVENT_SUBSCRIPTIONS", "SlackSandbox"]


class SlackSandbox(PersonActions, EventActions, SocketActions):
    """A local Slack: Web API at :attr:`api_url`, signed requests to the app at :attr:`request_url`.

    Use ``async with SlackSandbox(signing_secret=..., request_url=...) as sb`` in a test, or
    :meth:`start_in_thread` / :meth:`stop_in_thread` from synchronous code.
    """

    # ---- workspace setup ---------------------------------------------------------------------------
    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        is_admin: bool = False,
        display_name: str | None = None,
        tz: str = "Etc/UTC",
    ) -> User:
        with self.ws.lock:
            if any(u.name == name for u in self.ws.users.values()):
                raise SandboxError(f"a user named {name!r} exists already")
            user = User(
                id=self.ws.new_id("U"),
                name=name,
                real_name=real_name or name.title(),
                email=email if email is not None else f"{name}@example.com",
                is_bot=is_bot,
                display_name=display_name if display_name is not None else name,
                tz=tz,
                is_admin=is_admin,
                bot_id=self.ws.new_id("B") if is_bot else None,
            )
            self.ws.users[user.id] = user
            return copy.deepcopy(user)

    def add_usergroup(
        self,
        handle: str,
        users: Iterable[UserRef] = (),
        *,
        name: str | None = None,
        description: str = "",
        disabled: bool = False,
    ) -> UserGroup:
        with self.ws.lock:
            grp = UserGroup(
                id=self.ws.new_id("S"),
                handle=handle,
                name=name or handle,
                users=[self.ws.resolve_user(u).id for u in users],
                description=description,
                created_by=self.ws.bot_user.id,
                date_create=self.ws.now_int(),
                disabled=disabled,
            )
            self.ws.usergroups[grp.id] = grp
            return copy.deepcopy(grp)

    def set_usergroup_users(self, group: UserGroup | str, users: Iterable[UserRef]) -> None:
        with self.ws.lock:
            gid = group.id if isinstance(group, UserGroup) else group
            self.ws.usergroups[gid].users = [self.ws.resolve_user(u).id for u in users]

    def add_channel(
        self,
        name: str,
        *,
        members: Iterable[UserRef] = (),
        is_private: bool = False,
        creator: UserRef | None = None,
        topic: str = "",
        purpose: str = "",
        is_general: bool = False,
        is_archived: bool = False,
    ) -> Channel:
        """A channel made by a person (the bot is a member only if listed, e.g. ``members=[sb.bot]``)."""
        from slack_sandbox.methods.conversations import check_channel_name

        with self.ws.lock:
            check_channel_name(name)
            if self.ws.channel_named(name) is not None:
                raise SandboxError(f"#{name} exists already")
            ids = [self.ws.resolve_user(m).id for m in members]
            owner = (
                self.ws.resolve_user(creator).id if creator is not None else (ids[0] if ids else "USLACKBOT")
            )
            now = self.ws.now_int()
            ch = Channel(
                id=self.ws.new_id("C"),
                name=name,
                creator=owner,
                created=now,
                members=list(dict.fromkeys(ids)),
                is_private=is_private,
                is_general=is_general,
                is_archived=is_archived,
                topic=TopicValue(topic, owner if topic else "", now if topic else 0),
                purpose=TopicValue(purpose, owner if purpose else "", now if purpose else 0),
            )
            self.ws.channels[ch.id] = ch
            return copy.deepcopy(ch)

    # ---- what is there -----------------------------------------------------------------------------
    def users(self) -> list[User]:
        with self.ws.lock:
            return copy.deepcopy(list(self.ws.users.values()))

    def user(self, ref: UserRef) -> User:
        return copy.deepcopy(self.ws.resolve_user(ref))

    def usergroups(self) -> list[UserGroup]:
        with self.ws.lock:
            return copy.deepcopy(list(self.ws.usergroups.values()))

    def channels(self, *, include_archived: bool = True, include_dms: bool = False) -> list[Channel]:
        with self.ws.lock:
            return copy.deepcopy(
                [
                    c
                    for c in self.ws.channels.values()
                    if (include_archived or not c.is_archived) and (include_dms or not c.is_im)
                ]
            )

    def channel(self, ref: ChannelRef) -> Channel:
        with self.ws.lock:
            return copy.deepcopy(self._channel_or_dm(ref))

    def channel_by_name(self, name: str) -> Channel | None:
        with self.ws.lock:
            ch = self.ws.channel_named(name)
            return copy.deepcopy(ch) if ch else None

    def dm(self, user: UserRef) -> Channel:
        """The app's DM channel with ``user`` (opened if needed)."""
        with self.ws.lock:
            return copy.deepcopy(self.ws.dm_channel(self.ws.resolve_user(user).id))

    def messages(
        self,
        channel: ChannelRef,
        *,
        thread_ts: str | None = None,
        include_replies: bool = True,
        include_system: bool = False,
    ) -> list[Message]:
        """Messages in ``channel`` oldest first; system ones (joins, topic changes) only if asked."""
        with self.ws.lock:
            ch = self._channel_or_dm(channel)
            out = []
            for m in self.ws.messages.get(ch.id, []):
                if m.deleted or (m.subtype and m.source == "system" and not include_system):
                    continue
                if thread_ts is not None and thread_ts not in (m.ts, m.thread_ts):
                    continue
                if not include_replies and m.is_reply and not m.reply_broadcast:
                    continue
                out.append(m)
            return copy.deepcopy(out)

    def message(self, channel: ChannelRef, ts: str) -> Message:
        with self.ws.lock:
            ch = self._channel_or_dm(channel)
            msg = self.ws.message(ch.id, ts)
            if msg is None:
                raise NotFoundError(f"no message {ts} in {ch.id}")
            return copy.deepcopy(msg)

    def thread(self, channel: ChannelRef, ts: str) -> list[Message]:
        return self.messages(channel, thread_ts=ts)

    def ephemerals(self, user: UserRef, channel: ChannelRef | None = None) -> list[Ephemeral]:
        with self.ws.lock:
            uid = self.ws.resolve_user(user).id
            cid = self._channel_or_dm(channel).id if channel is not None else None
            return copy.deepcopy(
                [
                    e
                    for e in self.ws.ephemerals
                    if e.user == uid and not e.deleted and cid in (None, e.channel)
                ]
            )

    def open_views(self, user: UserRef) -> list[View]:
        """The user's modal stack, bottom first (the last one is what they see)."""
        with self.ws.lock:
            return copy.deepcopy(self.ws.modal_stack(self.ws.resolve_user(user).id))

    def home_view(self, user: UserRef) -> View | None:
        with self.ws.lock:
            view = self.ws.views.get(self.ws.home_views.get(self.ws.resolve_user(user).id, ""))
            return copy.deepcopy(view) if view else None

    def files(self) -> list[UploadedFile]:
        with self.ws.lock:
            return copy.deepcopy(list(self.ws.files.values()))

    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[ApiCall]:
        """Web API calls the app made, oldest first, optionally filtered by method and outcome."""
        with self.ws.lock:
            return copy.deepcopy(
                [c for c in self.ws.calls if method in (None, c.method) and ok in (None, c.ok)]
            )

    @property
    def violations(self) -> list[Violation]:
        with self.ws.lock:
            return copy.deepcopy(self.ws.violations)

    def deliveries(self) -> list[EventDelivery]:
        return list(self.inbound.deliveries)

    def assert_no_violations(self, *ignore: str) -> None:
        found = [v for v in self.violations if v.kind not in ignore]
        problems = [*self.internal_errors, *(f"{v.kind}: {v.detail}" for v in found)]
        if problems:
            raise AssertionError("Slack protocol violations:\n  " + "\n  ".join(problems))

    def clear_recordings(self) -> None:
        with self.ws.lock:
            self.ws.calls.clear()
            self.ws.violations.clear()
            self.inbound.deliveries.clear()
            self.socket.envelopes.clear()
