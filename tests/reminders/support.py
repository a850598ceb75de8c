"""Shared pieces of the reminder tests: a clock the test moves, the Slack stand-in with people, replicas."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import redis.asyncio as aioredis

from bot.app import build_core
from bot.config import HandoffConfig, QuietHours, RemindersConfig, SeverityPolicy, SideConfig
from bot.domain.evidence import Checklists
from bot.domain.incident import Incident
from bot.domain.models import IncidentState, Severity, Side
from bot.services.deps import Services
from bot.services.directory import ResponderDirectory
from bot.services.playbooks import PlaybookService
from bot.services.reminders import ReminderService
from bot.services.replies import Replies
from bot.slack.gateway import SlackGateway, make_client
from bot.store.redis_store import RedisIncidentStore
from bot.tasks import BackgroundTasks
from playbooks.runner import RunContext
from slack_sandbox import SlackSandbox, load_reference
from slack_sandbox.reference import Reference

# Wednesday 10 June 2026, 10:00 UTC = 12:00 in Berlin (CEST, UTC+2): well outside the quiet hours.
T0 = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"

POLICIES = {
    Severity.SEV1: SeverityPolicy(remind_every=timedelta(minutes=15), escalate_after=2),
    Severity.SEV2: SeverityPolicy(remind_every=timedelta(minutes=30), escalate_after=3),
    Severity.SEV3: SeverityPolicy(remind_every=timedelta(hours=2), escalate_after=3, quiet_hours=True),
    Severity.SEV4: SeverityPolicy(remind_every=timedelta(hours=6), escalate_after=2, quiet_hours=True),
}

REMINDER_TEXT = re.compile(r"^(?P<incident>INC-\d+) (?P<kind>reminder|escalation) (?P<number>\d+):")


@dataclass
class ManualClock:
    """The services' clock: a callable whose time only the test moves."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def set(self, at: datetime) -> datetime:
        self.now = at
        return at


@dataclass(frozen=True)
class People:
    """Slack user ids in the stand-in: two responders per side, a lead per side, and someone on neither."""

    ml: list[str]
    data: list[str]
    ml_lead: str
    data_lead: str
    outsider: str

    @property
    def everyone(self) -> list[str]:
        return [*self.ml, *self.data, self.ml_lead, self.data_lead, self.outsider]


@dataclass(frozen=True)
class Post:
    channel: str
    text: str
    blocks: list[dict[str, Any]]

    @property
    def mrkdwn(self) -> str:
        """Every text of the blocks, joined: what a person would read."""
        return "\n".join(_texts(self.blocks))


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


@functools.cache
def reference() -> Reference:
    """The stand-in's Web API reference, read once per test session."""
    return load_reference()


@dataclass
class SlackStandIn:
    """The Slack sandbox with the reminder tests' people, triage channel and one channel per incident."""

    sb: SlackSandbox
    people: People
    triage: str
    channels: dict[str, str] = field(default_factory=dict)

    def gateway(self) -> SlackGateway:
        """A new real slack_sdk client on the stand-in: what one bot process would have."""
        return SlackGateway(make_client(self.sb.bot_token, self.sb.api_url))

    def channel_for(self, incident_id: str) -> str:
        if incident_id not in self.channels:
            members = [self.sb.bot_user_id, *self.people.everyone]
            self.channels[incident_id] = self.sb.add_channel(f"inc-{incident_id.lower()}", members=members).id
        return self.channels[incident_id]

    def incident(
        self,
        incident_id: str,
        severity: Severity = Severity.SEV2,
        last_activity: datetime = T0,
        state: IncidentState = IncidentState.INVESTIGATING,
    ) -> Incident:
        return incident(
            incident_id, severity, last_activity, state=state, channel_id=self.channel_for(incident_id)
        )

    def posts(self, channel: str | None = None) -> list[Post]:
        """The bot's messages, oldest first, in one channel or in all of them."""
        channels = [channel] if channel else [self.triage, *self.channels.values()]
        messages = [m for c in channels for m in self.sb.messages(c) if m.user == self.sb.bot_user_id]
        messages.sort(key=lambda m: float(m.ts))
        return [Post(m.channel, m.text, list(m.blocks)) for m in messages]

    def reminders(self) -> list[tuple[str, str, int]]:
        """(incident id, "reminder" or "escalation", number) of every reminder posted, oldest first."""
        found = []
        for post in self.posts():
            if m := REMINDER_TEXT.match(post.text):
                found.append((m["incident"], m["kind"], int(m["number"])))
        return found


async def start_slack() -> SlackStandIn:
    sb = await SlackSandbox(signing_secret="reminder-tests", reference=reference()).start()
    ids = {
        name: sb.add_user(name).id
        for name in ("ml1", "ml2", "data1", "data2", "mllead", "datalead", "bystander")
    }
    people = People(
        ml=[ids["ml1"], ids["ml2"]],
        data=[ids["data1"], ids["data2"]],
        ml_lead=ids["mllead"],
        data_lead=ids["datalead"],
        outsider=ids["bystander"],
    )
    triage = sb.add_channel("incident-triage", members=[sb.bot_user_id, *people.everyone]).id
    return SlackStandIn(sb=sb, people=people, triage=triage)


def make_config(people: People, triage: str | None, digest_at: time = time(9, 0)) -> HandoffConfig:
    return HandoffConfig(
        sides={
            Side.MLOPS: SideConfig(users=people.ml, leads=[people.ml_lead]),
            Side.DATAOPS: SideConfig(users=people.data, leads=[people.data_lead]),
        },
        triage_channel=triage,
        severities=dict(POLICIES),
        reminders=RemindersConfig(
            sweep_every=timedelta(minutes=1),
            digest_at=digest_at,
            quiet_hours=QuietHours(start=time(22, 0), end=time(8, 0), timezone=BERLIN),
        ),
    )


@dataclass
class Replica:
    """One bot process's reminder stack: its own Redis connection, Slack client, store and service."""

    redis: aioredis.Redis
    store: RedisIncidentStore
    service: ReminderService

    async def close(self) -> None:
        await self.redis.aclose()


def replica(redis_url: str, config: HandoffConfig, gateway: SlackGateway, clock: ManualClock) -> Replica:
    client = aioredis.Redis.from_url(redis_url)
    store = RedisIncidentStore(client)
    service = ReminderService(config, store, gateway, ResponderDirectory(config, gateway), clock)
    return Replica(client, store, service)


def incident(
    incident_id: str,
    severity: Severity = Severity.SEV2,
    last_activity: datetime = T0,
    *,
    state: IncidentState = IncidentState.INVESTIGATING,
    channel_id: str | None = None,
) -> Incident:
    """An incident under investigation with both blank checklists, so both sides owe everything."""
    return Incident(
        id=incident_id,
        title=f"Churn model alert {incident_id}",
        severity=severity,
        state=state,
        created_at=last_activity,
        updated_at=last_activity,
        last_activity_at=last_activity,
        channel_id=channel_id,
        evidence=Checklists().blank_evidence(),
    )


def services_for(bot: Replica, config: HandoffConfig, clock: ManualClock) -> Services:
    """The listeners' services around one replica's reminder service (playbooks from an empty list)."""
    gateway = bot.service.gateway
    core = build_core(config, bot.store, gateway, clock, "UBOT", {})
    ctx = RunContext(http=httpx.AsyncClient(), snapshots=None, env={})  # type: ignore[arg-type]
    playbooks = PlaybookService([], ctx, bot.store, core.evidence, gateway)
    return Services(
        config=config,
        incidents=core.incidents,
        evidence=core.evidence,
        playbooks=playbooks,
        reminders=bot.service,
        replies=Replies(gateway),
        tasks=BackgroundTasks("listeners"),
    )
