"""The whole bot under test: the Slack stand-in as the workspace, the bot served over HTTP, real Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis
import yaml

from bot.app import Handoff, build_handoff
from bot.config import HandoffConfig
from bot.domain.incident import Incident
from bot.domain.models import Side
from bot.services.clock import Clock, system_clock
from bot.settings import Settings
from slack_sandbox import SlackSandbox
from slack_sandbox.models import Message
from slack_sandbox.server import AsgiServer
from tests.support.reference import ROOT

SIGNING_SECRET = "scenario-signing-secret-0123456789"


def manifest_scopes() -> list[str]:
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    return list(manifest["oauth_config"]["scopes"]["bot"])


@dataclass
class Team:
    """The people of the test workspace."""

    ml: list[str]  # MLOps responders listed by user id
    ml_group: list[str]  # members of the MLOps user group
    data: list[str]
    data_group: list[str]
    ml_lead: str
    data_lead: str
    commander: str
    outsider: str
    ml_group_id: str = ""
    data_group_id: str = ""
    triage: str = ""

    def side(self, side: Side) -> list[str]:
        return [*self.ml, *self.ml_group] if side is Side.MLOPS else [*self.data, *self.data_group]


def make_team(sb: SlackSandbox) -> Team:
    user = lambda name: sb.add_user(name).id  # noqa: E731
    team = Team(
        ml=[user("mia")],
        ml_group=[user("milo"), user("maya")],
        data=[user("dana")],
        data_group=[user("dev"), user("dora")],
        ml_lead=user("mlead"),
        data_lead=user("dlead"),
        commander=user("cora"),
        outsider=user("otto"),
    )
    team.ml_group_id = sb.add_usergroup("mlops-oncall", team.ml_group).id
    team.data_group_id = sb.add_usergroup("dataops-oncall", team.data_group).id
    team.triage = sb.add_channel("ml-triage", members=[sb.bot_user_id]).id
    return team


def team_config(team: Team, **overrides: Any) -> HandoffConfig:
    data: dict[str, Any] = {
        "sides": {
            "mlops": {"users": team.ml, "usergroups": [team.ml_group_id], "leads": [team.ml_lead]},
            "dataops": {"users": team.data, "usergroups": [team.data_group_id], "leads": [team.data_lead]},
        },
        "triage_channel": team.triage,
        "alerts": {
            "announce_after": "0.2s",
            "sources": {
                "alertmanager": {"kind": "alertmanager", "auth": "bearer", "secret": "am-token-123456"}
            },
        },
        "reminders": {"sweep_every": "1h"},
    }
    data.update(overrides)
    return HandoffConfig.model_validate(data)


@dataclass
class BotUnderTest:
    sb: SlackSandbox
    team: Team
    config: HandoffConfig
    redis_url: str
    clock: Clock = system_clock
    handoff: Handoff | None = None
    server: AsgiServer | None = None
    started: list[Handoff] = field(default_factory=list)
    # More settings for the bot, by field name (e.g. redis_sentinels, redis_wait_replicas: tests/ha/).
    settings_overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def bot(self) -> Handoff:
        assert self.handoff is not None
        return self.handoff

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.base_url}/slack/events"

    def settings(self) -> Settings:
        return Settings(
            slack_bot_token=self.sb.bot_token,  # type: ignore[arg-type]
            slack_signing_secret=SIGNING_SECRET,  # type: ignore[arg-type]
            slack_api_url=self.sb.api_url,  # type: ignore[arg-type]
            redis_url=self.redis_url,
            **self.settings_overrides,
        )

    async def start(self, background: bool = False) -> BotUnderTest:
        """Build and serve a bot process; `background` also starts its workers (alert consumer, scheduler)."""
        handoff = await build_handoff(self.settings(), self.config, clock=self.clock)
        assert handoff.asgi is not None
        self.server = await AsgiServer(handoff.asgi).start()
        await handoff.start(workers=background)
        self.handoff = handoff
        self.started.append(handoff)
        self.sb.request_url = self.url
        return self

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self.handoff is not None:
            await self.handoff.stop()
            self.handoff = None

    async def restart(self, background: bool = False) -> BotUnderTest:
        await self.stop()
        return await self.start(background)

    # --- Reading the outcome ---------------------------------------------------------------------------

    async def incidents(self) -> list[Incident]:
        return list(await self.bot.store.list_active(limit=1000))

    async def incident_in(self, channel_id: str) -> Incident:
        found = await self.bot.store.find_by_channel(channel_id)
        assert found is not None, f"no incident owns {channel_id}"
        return found

    def messages(self, channel_id: str) -> list[Message]:
        return self.sb.messages(channel_id)


async def eventually(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:  # noqa: ASYNC109
    """Poll `check` (sync or async) until it returns something truthy; the work after an ack is async."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if asyncio.iscoroutine(last):
                last = await last
            if last:
                return last
        except AssertionError:
            last = None
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s (last: {last!r})")


async def flush(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()


STALE = timedelta(hours=6)
