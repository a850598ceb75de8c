"""Who answers for each side: configured users plus user-group members, resolved through Slack and cached."""

from __future__ import annotations

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

    async def members(self, side: Side) -> list[str]:
        cached = self._cache.get(side)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
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

    async def everyone(self) -> dict[Side, list[str]]:
        return {side: await self.members(side) for side in Side}
