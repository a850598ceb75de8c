"""Who answers for each side: configured users plus user-group members, resolved through Slack and cached."""

from __future__ import annotations

import asyncio
import time

import structlog

from bot.config import HandoffConfig
from bot.domain.models import Side
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

    async def sides_of(self, user_id: str) -> set[Side]:
        return {side for side in Side if user_id in await self.members(side)}

    async def may_act_for(self, user_id: str, side: Side) -> bool:
        return user_id in await self.members(side)

    def leads(self, side: Side) -> list[str]:
        return list(self.config.sides[side].leads)

    async def everyone(self, fresh: bool = False) -> dict[Side, list[str]]:
        """Both sides' members; `fresh` reads the user groups now (who is on call at this moment)."""
        if fresh:
            return {side: await self._refresh(side) for side in Side}
        return {side: await self.members(side) for side in Side}
