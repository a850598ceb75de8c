"""Opening, resuming, showing, closing and reopening incidents."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import structlog
from pydantic import BaseModel, Field
from slack_sdk.models.blocks import Block
from tenacity import AsyncRetrying, retry_if_result, stop_after_delay, wait_fixed

from bot.config import HandoffConfig
from bot.domain.errors import IncidentNotFound, InvalidInput
from bot.domain.evidence import Checklists
from bot.domain.incident import (
    Incident,
    OpeningProgress,
    Origin,
    apply_event,
    channel_name,
    close,
    reopen,
    touch,
)
from bot.domain.models import Asset, IncidentState, Severity, Side, TimelineEntry
from bot.domain.permissions import Action, require
from bot.domain.state import IncidentEvent
from bot.services.clock import Clock
from bot.services.directory import ResponderDirectory
from bot.services.messages import IncidentMessages
from bot.slack import blocks
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.store.base import IncidentStore

log = structlog.get_logger(__name__)

# The opening lease: renewed while a process works on an opening, so a killed process frees it within a lease.
OPENING_LEASE = timedelta(seconds=15)
RESUME_EVERY = 5.0  # seconds between start-up passes over unfinished openings
RESUME_FOR = 600.0  # seconds the start-up resume keeps trying (a lease held by a dead process expires)
MAX_NAME_ATTEMPTS = 25


class OpenRequest(BaseModel):
    """Everything needed to open an incident, from a command, a form or an alert."""

    title: str = Field(min_length=1, max_length=150)
    severity: Severity
    origin: Origin
    opened_by: str | None = None
    assets: list[Asset] = Field(default_factory=list)
    description: str = ""
    private: bool | None = None
    idempotency_key: str | None = None
    alert_keys: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)


OpenedHook = Callable[[Incident], Awaitable[None]]


class IncidentService:
    def __init__(
        self,
        store: IncidentStore,
        gateway: SlackGateway,
        directory: ResponderDirectory,
        messages: IncidentMessages,
        config: HandoffConfig,
        checklists: Checklists,
        clock: Clock,
        bot_user_id: str,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.directory = directory
        self.messages = messages
        self.config = config
        self.checklists = checklists
        self.clock = clock
        self.bot_user_id = bot_user_id
        self.on_opened: list[OpenedHook] = []

    def _entry(self, kind: str, text: str, actor: str | None = None, **data: str) -> TimelineEntry:
        return TimelineEntry(at=self.clock(), kind=kind, text=text, actor=actor, data=data)

    async def open_incident(self, request: OpenRequest) -> tuple[Incident, bool]:
        """Record the incident (once per idempotency key), then open its channel; returns (incident, created)."""
        incident, created = await self.open_record(request)
        if not created:
            return incident, False
        return await self.continue_opening(incident.id), True

    async def open_record(self, request: OpenRequest) -> tuple[Incident, bool]:
        """Only record the incident; the channel is opened by continue_opening (now, or resumed later)."""
        now = self.clock()
        incident = Incident(
            id=await self.store.next_id(now),
            title=request.title,
            severity=request.severity,
            origin=request.origin,
            opened_by=request.opened_by,
            commander=request.opened_by,
            assets=request.assets,
            labels=request.labels,
            description=request.description,
            private=self.config.channel.private if request.private is None else request.private,
            created_at=now,
            updated_at=now,
            last_activity_at=now,
            evidence=self.checklists.blank_evidence(),
            alert_keys=request.alert_keys,
            alerts_firing=request.alert_keys,
        )
        opener = f"<@{request.opened_by}>" if request.opened_by else request.origin
        stored, created = await self.store.create(
            incident,
            [
                self._entry(
                    "opened",
                    f"Opened by {opener}: {request.title} ({request.severity.label})",
                    request.opened_by,
                )
            ],
            request.idempotency_key,
        )
        if created:
            log.info("incident.created", incident_id=stored.id, origin=request.origin)
        return stored, created

    async def continue_opening(self, incident_id: str) -> Incident:
        """Run the opening steps not yet done; safe to call again after a crash or from another replica."""
        lock = f"opening:{incident_id}"
        if not await self.store.claim_once(lock, OPENING_LEASE):
            return await self.store.get(incident_id)
        renewal = asyncio.create_task(self._renew(lock))
        try:
            incident = await self._open_steps(incident_id)
        finally:
            renewal.cancel()
            await self.store.release(lock)
        for hook in self.on_opened:
            try:
                await hook(incident)
            except Exception:
                log.exception("incident.opened_hook_failed", incident_id=incident_id)
        return incident

    async def _renew(self, lock: str) -> None:
        while True:
            await asyncio.sleep(OPENING_LEASE.total_seconds() / 3)
            await self.store.extend(lock, OPENING_LEASE)

    async def _set(self, incident_id: str, kind: str, text: str, **changes: object) -> Incident:
        def change(i: Incident) -> Incident:
            opening = i.opening.model_copy(
                update={k: v for k, v in changes.items() if k in OpeningProgress.model_fields}
            )
            rest = {k: v for k, v in changes.items() if k not in OpeningProgress.model_fields}
            return i.model_copy(update={"opening": opening, "updated_at": self.clock(), **rest})

        _, after = await self.store.mutate(incident_id, change, lambda b, a: [self._entry(kind, text)])
        return after

    async def _open_steps(self, incident_id: str) -> Incident:
        incident = await self.store.get(incident_id)
        fresh = False
        if not incident.opening.channel_created:
            incident = await self._create_channel(incident)
            fresh = True  # created by this run: nothing can have been posted in it yet
        assert incident.channel_id is not None
        channel = incident.channel_id
        if not incident.opening.members_invited:
            members = await self.directory.everyone(fresh=True)
            users = [u for side in Side for u in members[side]]
            if incident.commander:
                users.append(incident.commander)
            users = [u for u in dict.fromkeys(users) if u != self.bot_user_id]
            failed = await self.gateway.invite(channel, users) if users else {}
            text = f"Invited {len(users) - len(failed)} responder(s)"
            incident = await self._set(
                incident.id, "invited", text, members_invited=True, failed_invites=failed
            )
        if not incident.opening.topic_set:
            await self.gateway.set_topic(channel, blocks.topic(incident))
            incident = await self._set(incident.id, "topic", "Topic set", topic_set=True)
        if not incident.opening.card_posted:
            ts = await self.messages.post_card(incident, fresh)
            incident = await self._set(
                incident.id, "card", "Incident card posted", card_posted=True, card_ts=ts
            )
        if not incident.opening.card_pinned:
            assert incident.card_ts is not None
            await self.gateway.pin(channel, incident.card_ts)
            incident = await self._set(incident.id, "pinned", "Incident card pinned", card_pinned=True)
        if not incident.opening.checklists_posted:
            posted = dict(incident.checklist_ts)
            for side in Side:
                if side not in posted:
                    posted[side] = await self.messages.post_checklist(incident, side, fresh)
            if incident.opening.failed_invites:
                notice = blocks.invite_failures_text(incident.opening.failed_invites)
                await self.gateway.post(channel, notice)
            incident = await self._set(
                incident.id,
                "checklists",
                "Evidence checklists posted",
                checklists_posted=True,
                checklist_ts=posted,
            )
        if incident.state is IncidentState.OPEN:
            _, incident = await self.store.mutate(
                incident.id,
                lambda i: (
                    apply_event(i, IncidentEvent.INVESTIGATE, self.clock())
                    if i.state is IncidentState.OPEN
                    else i
                ),
                lambda b, a: [self._entry("state", "Investigating")],
            )
        log.info("incident.opened", incident_id=incident.id, channel=channel)
        return incident

    async def _create_channel(self, incident: Incident) -> Incident:
        private = incident.private
        for attempt in range(MAX_NAME_ATTEMPTS):
            name = channel_name(self.config.channel.template, incident, attempt)
            if incident.channel_name != name:
                incident = await self._set(
                    incident.id, "channel_planned", f"Creating #{name}", channel_name=name
                )
            try:
                channel = await self.gateway.create_channel(name, private)
            except SlackCallFailed as exc:
                if exc.error != "name_taken":
                    raise
                adopted = await self._adopt(name, private)
                if adopted is None:
                    continue
                channel = adopted
            await self.store.bind_channel(str(channel["id"]), incident.id)
            return await self._set(
                incident.id,
                "channel",
                f"Channel <#{channel['id']}> created",
                channel_created=True,
                channel_id=str(channel["id"]),
                channel_name=name,
            )
        raise InvalidInput(f"Could not find a free channel name after {MAX_NAME_ATTEMPTS} attempts.")

    async def _adopt(self, name: str, private: bool) -> dict[str, object] | None:
        """A taken name may be our own channel from before a crash: adopt it if no incident owns it."""
        try:
            found = await self.gateway.find_channel(name, private)
        except SlackCallFailed:
            return None
        if not found or found.get("creator") != self.bot_user_id:
            return None
        if await self.store.find_by_channel(str(found["id"])) is not None:
            return None
        return found

    async def resume_openings(self) -> list[str]:
        """One pass: finish every incident whose opening was interrupted; returns those still unfinished."""
        unfinished = []
        for incident in await self.store.list_active(limit=1000):
            if incident.opening.done:
                continue
            log.info("incident.resume_opening", incident_id=incident.id)
            try:
                done = await self.continue_opening(incident.id)
            except Exception:
                log.exception("incident.resume_failed", incident_id=incident.id)
                done = incident
            if not done.opening.done:
                unfinished.append(incident.id)
        return unfinished

    async def keep_resuming(self) -> None:
        """At start-up, in the background: retry until every interrupted opening is finished.

        An opening whose lease is still held (by a process that was just killed) is retried after the lease.
        What is still unfinished after RESUME_FOR is left to the next alert for it or the next start-up.
        """
        retrying = AsyncRetrying(
            stop=stop_after_delay(RESUME_FOR),
            wait=wait_fixed(RESUME_EVERY),
            retry=retry_if_result(bool),  # openings still unfinished
            retry_error_callback=lambda state: None,  # give up quietly: each failure was logged
        )
        async for attempt in retrying:
            with attempt:
                unfinished = await self.resume_openings()
            if attempt.retry_state.outcome is not None and not attempt.retry_state.outcome.failed:
                attempt.retry_state.set_result(unfinished)

    async def for_channel(self, channel_id: str) -> Incident:
        incident = await self.store.find_by_channel(channel_id)
        if incident is None:
            raise InvalidInput(
                "This channel is not an incident channel. Run it in an incident's channel, or "
                f"`{self.config.command} status INC-0042` anywhere."
            )
        return incident

    async def status(self, channel_id: str, incident_id: str | None, user_id: str) -> Incident:
        """The incident named, or this channel's; a private one only for whom the table lets see it."""
        if incident_id:
            try:
                incident = await self.store.get(incident_id)
            except IncidentNotFound:
                raise InvalidInput(f"There is no incident {incident_id}.") from None
        else:
            incident = await self.for_channel(channel_id)
        await self.directory.require(Action.VIEW_PRIVATE, user_id, incident)
        return incident

    async def record_activity(self, channel_id: str) -> None:
        """A person's message in an incident's channel: the reminder clock starts again (active incidents)."""
        incident = await self.store.find_by_channel(channel_id)
        if incident is not None and incident.active:
            await self.store.mutate(incident.id, lambda i: touch(i, self.clock()), lambda b, a: [])

    async def card(self, incident: Incident) -> list[Block]:
        """The incident's card as it stands, for `status` (with the responders of each side)."""
        return await self.messages.card(incident)

    async def list_open(self, user_id: str) -> Sequence[Incident]:
        """The active incidents this person may see: a private one is left out for those it is hidden from."""
        return await self.directory.visible(user_id, list(await self.store.list_active()))

    async def _permitted(
        self, action: Action, user_id: str, incident: Incident
    ) -> Callable[[Incident], Incident]:
        """Check now, and return a check of the incident as written (its state may have moved in between)."""
        roles = await self.directory.actor_roles(action, user_id, incident)
        table = self.directory.permissions

        def check(current: Incident) -> Incident:
            require(action, roles, current, table=table)
            return current

        check(incident)
        return check

    async def close(self, channel_id: str, user_id: str, note: str) -> Incident:
        incident = await self.for_channel(channel_id)
        allowed = await self._permitted(Action.CLOSE, user_id, incident)
        _, after = await self.store.mutate(
            incident.id,
            lambda i: close(allowed(i), note, self.clock()),
            lambda b, a: [self._entry("closed", f"Closed by <@{user_id}>: {note}", user_id)],
        )
        await self.messages.refresh(after, topic=True)
        assert after.channel_id is not None
        await self.gateway.post(after.channel_id, blocks.closed_text(after.id, user_id, note))
        return after

    async def reopen(self, channel_id: str, user_id: str, reason: str) -> Incident:
        incident = await self.for_channel(channel_id)
        allowed = await self._permitted(Action.REOPEN, user_id, incident)
        _, after = await self.store.mutate(
            incident.id,
            lambda i: reopen(allowed(i), self.clock()),
            lambda b, a: [self._entry("reopened", f"Reopened by <@{user_id}>: {reason}", user_id)],
        )
        await self.messages.refresh(after, topic=True)
        assert after.channel_id is not None
        await self.gateway.post(after.channel_id, blocks.reopened_text(after.id, user_id, reason))
        return after
