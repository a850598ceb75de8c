"""Who answers for each side: configured users plus user-group members, resolved through Slack and cached."""

from __future__ import annotations

import asyncio
import time

import structlog

from bot.config import HandoffConfig
from bot.domain.incident import Incident
from bot.domain.models import Side
from bot.domain.permissions import Action, Decision, Role, may, needed_roles, require, side_roles
from bot.slack.gateway import SlackCallFailed, SlackGateway

log = structlog.get_logger(__name__)


class ResponderDirectory:
    """Side membership, refreshed from usergroups.users.list at most every `ttl` seconds."""

    def __init__(self, config: HandoffConfig, gateway: SlackGateway, ttl: float = 300.0) -> None:
        self.config = config
        self.gateway = gateway
        self.ttl = ttl
        self._cache: dict[Side, tuple[float, list[str]]] = {}
        self._refreshing: dict[Side, asyncio.Task[list[str]]] = {}
        self.permissions = config.permissions.table()

    async def members(self, side: Side) -> list[str]:
        """The side's members; a stale answer is served while a refresh runs, so the ack path never waits on Slack."""
        cached = self._cache.get(side)
        if cached is None:
            return await self._refresh(side)
        if time.monotonic() - cached[0] >= self.ttl and side not in self._refreshing:
            task = asyncio.create_task(self._refresh(side))
            self._refreshing[side] = task
            task.add_done_callback(lambda _: self._refreshing.pop(side, None))
        return cached[1]

    async def warm(self) -> None:
        """Read every side's user groups once at start-up."""
        for side in Side:
            await self._refresh(side)

    async def _refresh(self, side: Side) -> list[str]:
        conf = self.config.sides[side]
        users = list(dict.fromkeys(conf.users))
        for group in conf.usergroups:
            try:
                users.extend(u for u in await self.gateway.usergroup_members(group) if u not in users)
            except SlackCallFailed as exc:
                # A group that cannot be read must not block the incident; its members just are not known.
                log.warning("directory.usergroup_unreadable", usergroup=group, error=exc.error)
        self._cache[side] = (time.monotonic(), users)
        return users

    def leads(self, side: Side) -> list[str]:
        return list(self.config.sides[side].leads)

    async def everyone(self, fresh: bool = False) -> dict[Side, list[str]]:
        """Both sides' members; `fresh` reads the user groups now (who is on call at this moment)."""
        if fresh:
            return {side: await self._refresh(side) for side in Side}
        return {side: await self.members(side) for side in Side}

    # --- Who may act: the roles a person holds, checked against the permission table ------------------------

    async def roles_of(
        self, user_id: str, incident: Incident | None = None, channel: bool = False
    ) -> frozenset[Role]:
        """The person's roles; `channel` also reads the incident channel's members (a Slack call)."""
        roles: set[Role] = {Role.ANYONE}
        for side in Side:
            roles |= side_roles(side, user_id in await self.members(side), user_id in self.leads(side))
        if incident is not None and incident.opened_by and incident.opened_by == user_id:
            roles.add(Role.OPENER)
        if channel and incident is not None and await self._in_channel(user_id, incident):
            roles.add(Role.CHANNEL_MEMBERS)
        return frozenset(roles)

    async def _in_channel(self, user_id: str, incident: Incident) -> bool:
        if incident.channel_id is None:
            return False
        try:
            return user_id in await self.gateway.channel_members(incident.channel_id)
        except SlackCallFailed as exc:
            # Membership that cannot be read is not membership: a private incident stays hidden.
            log.warning("directory.members_unreadable", channel=incident.channel_id, error=exc.error)
            return False

    async def actor_roles(
        self, action: Action, user_id: str, incident: Incident | None, side: Side | None = None
    ) -> frozenset[Role]:
        """The roles that matter for this action: the channel's members are read only when the row names them."""
        needed = needed_roles(action, side, incident, self.permissions)
        return await self.roles_of(user_id, incident, channel=Role.CHANNEL_MEMBERS in needed)

    async def require(
        self, action: Action, user_id: str, incident: Incident | None, side: Side | None = None
    ) -> Decision:
        """Raise NotAllowed, naming who may, unless the person may; `incident` None: the ack-path pre-check."""
        roles = await self.actor_roles(action, user_id, incident, side)
        return require(action, roles, incident, side, self.permissions)

    async def visible(self, user_id: str, incidents: list[Incident]) -> list[Incident]:
        """The incidents the person may see: every public one, and the private ones the table lets them."""
        shown = []
        for incident in incidents:
            if not incident.private:
                shown.append(incident)
                continue
            roles = await self.actor_roles(Action.VIEW_PRIVATE, user_id, incident)
            if may(Action.VIEW_PRIVATE, roles, incident, table=self.permissions).allowed:
                shown.append(incident)
        return shown
