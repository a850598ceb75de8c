"""The composition root: build every part of the bot from typed settings and config, each by one function."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx
import structlog
from redis.asyncio import Redis
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.asgi import answers, build_asgi
from bot.config import HandoffConfig
from bot.domain.incident import Incident
from bot.domain.models import Side
from bot.logging import register_secrets
from bot.metrics import Metrics
from bot.scheduling.scheduler import ReminderScheduler, build_scheduler, start_scheduler, stop_scheduler
from bot.services.alerts import AlertService
from bot.services.clock import Clock, system_clock
from bot.services.deps import Services
from bot.services.directory import ResponderDirectory
from bot.services.evidence import EvidenceService
from bot.services.incidents import IncidentService
from bot.services.intake import AlertIntake
from bot.services.messages import IncidentMessages
from bot.services.playbooks import PlaybookService, env_refs
from bot.services.reminders import ReminderService
from bot.services.replies import Replies
from bot.settings import Settings
from bot.slack.gateway import SlackGateway, make_client
from bot.store import Stores, connect_settings
from bot.store.base import IncidentStore
from bot.tasks import BackgroundTasks
from playbooks.loader import load_playbooks
from playbooks.runner import RunContext
from playbooks.schema import Playbook

log = structlog.get_logger(__name__)


@dataclass
class Core:
    """The parts every use case shares: storage, Slack, the people of each side, and the incident services."""

    store: IncidentStore
    gateway: SlackGateway
    directory: ResponderDirectory
    incidents: IncidentService
    evidence: EvidenceService
    clock: Clock


@dataclass
class Handoff:
    """One running bot: its services, the workers it starts, its Bolt app and its ASGI app."""

    settings: Settings
    config: HandoffConfig
    stores: Stores
    core: Core
    services: Services
    alerts: AlertService
    scheduler: ReminderScheduler
    http: httpx.AsyncClient
    bolt: AsyncApp
    metrics: Metrics
    routes: list[BaseRoute]
    workers: BackgroundTasks = field(default_factory=lambda: BackgroundTasks("workers"))
    slack_ok: bool = False
    asgi: Starlette | None = None

    @property
    def store(self) -> IncidentStore:
        return self.core.store

    @property
    def playbooks(self) -> PlaybookService:
        return self.services.playbooks

    async def start(self, workers: bool = True) -> None:
        """Finish interrupted openings, post unposted decisions; with `workers`, consume alerts and remind."""
        self.slack_ok = await answers(self.core.gateway.auth_test, within=10)
        await answers(self.core.directory.warm, within=10)
        self.workers.spawn(self.core.incidents.keep_resuming(), event="resumer.failed")
        await self.core.evidence.recover_decisions()
        if workers:
            self.workers.spawn(self.alerts.run(), event="alert_consumer.failed")
            await start_scheduler(self.scheduler)

    async def stop(self, grace: float = 10.0) -> None:
        """Let the work started after acks finish, then stop the workers and close the connections."""
        await self.services.tasks.drain(grace)
        await stop_scheduler(self.scheduler)
        await self.workers.cancel()
        await self.http.aclose()
        await self.stores.aclose()

    async def readiness(self) -> dict[str, bool]:
        return {"redis": await answers(self.stores.ping), "slack": self.slack_ok}


def build_core(
    config: HandoffConfig,
    store: IncidentStore,
    gateway: SlackGateway,
    clock: Clock,
    bot_user_id: str,
    playbook_names: dict[Side, list[str]],
) -> Core:
    directory = ResponderDirectory(config, gateway)
    messages = IncidentMessages(gateway, directory, playbook_names)
    checklists = config.checklist_templates()
    incidents = IncidentService(store, gateway, directory, messages, config, checklists, clock, bot_user_id)
    evidence = EvidenceService(store, gateway, directory, messages, clock)
    return Core(store, gateway, directory, incidents, evidence, clock)


def load_all_playbooks(config: HandoffConfig) -> list[Playbook]:
    """Every playbook the config names; a bad one fails here, naming its file, line and field."""
    return load_playbooks(config.playbooks.folders, builtin=config.playbooks.builtin)


def names_by_side(
    playbooks: Sequence[Playbook], env: Mapping[str, str], config: HandoffConfig | None = None
) -> dict[Side, list[str]]:
    """The Run buttons each side's checklist shows: playbooks whose `${NAME}` references are all set.

    With `playbooks.execution: workers`, every playbook: the credentials are the workers', not this process's,
    and the Slack-facing process and the workers must draw the same buttons.
    """
    workers = config is not None and config.playbooks.execution == "workers"
    names: dict[Side, list[str]] = {side: [] for side in Side}
    for playbook in playbooks:
        if workers or env_refs(playbook) <= set(env):
            names[playbook.side].append(playbook.name)
    return names


def build_playbooks(
    config: HandoffConfig, playbooks: Sequence[Playbook], stores: Stores, core: Core, http: httpx.AsyncClient
) -> PlaybookService:
    """Playbooks run as incidents open and by hand; findings fill the checklists.

    With `playbooks.execution: workers` they are queued for `handoff worker` processes (bot/worker.py) instead.
    """
    ctx = RunContext(http=http, snapshots=stores.snapshots, env=dict(os.environ))
    service = PlaybookService(
        playbooks,
        ctx,
        core.store,
        core.evidence,
        core.gateway,
        run_on_open=config.playbooks.run_on_open,
        queue=stores.runs if config.playbooks.execution == "workers" else None,
    )
    core.incidents.on_opened.append(service.on_opened)
    return service


def build_alerts(
    config: HandoffConfig, stores: Stores, core: Core, metrics: Metrics
) -> tuple[AlertService, list[BaseRoute]]:
    """`POST /alerts/<source>` persists alerts; the consumer (a worker) turns them into incidents."""
    from handlers.alerts import alert_routes

    alerts = config.alerts
    register_secrets(s.secret.get_secret_value() for s in alerts.sources.values() if s.secret is not None)
    inbox = stores.inbox
    service = AlertService(
        inbox,
        core.store,
        core.incidents,
        core.gateway,
        core.clock,
        group_window=alerts.group_window,
        announce_after=alerts.announce_after.total_seconds(),
        reclaim_idle_ms=int(alerts.reclaim_after.total_seconds() * 1000),
    )
    routes: list[BaseRoute] = [
        *alert_routes(
            alerts.sources,
            AlertIntake(inbox),
            alerts.routing,
            registry=metrics.registry,
            max_body_bytes=alerts.max_body_bytes,
        )
    ]
    return service, routes


def build_reminders(
    config: HandoffConfig,
    store: IncidentStore,
    gateway: SlackGateway,
    directory: ResponderDirectory,
    clock: Clock,
) -> tuple[ReminderService, ReminderScheduler]:
    """The reminder service, and the scheduler that ticks it (started and stopped with the workers)."""
    service = ReminderService(config, store, gateway, directory, clock)
    return service, build_scheduler(service, config.reminders)


def build_bolt(settings: Settings, client: AsyncWebClient, services: Services) -> AsyncApp:
    """The Bolt app with every listener registered; it acks from the listener (process_before_response)."""
    from handlers import register_listeners

    # Bolt falls back to $SLACK_BOT_TOKEN when `token` is not given, then warns that `client` wins over it.
    # Our client (retry handlers, base URL) already carries the token: hide the variable while Bolt is built.
    env_token = os.environ.pop("SLACK_BOT_TOKEN", None)
    try:
        bolt = AsyncApp(
            client=client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            process_before_response=True,
        )
    finally:
        if env_token is not None:
            os.environ["SLACK_BOT_TOKEN"] = env_token
    register_listeners(bolt, services)
    return bolt


def count_outcomes(core: Core, metrics: Metrics) -> None:
    async def count_opened(incident: Incident) -> None:
        metrics.incidents_opened.labels(origin=incident.origin).inc()

    core.incidents.on_opened.append(count_opened)
    core.evidence.on_decided.append(
        lambda _, decision: metrics.decisions.labels(owner=decision.owner.value).inc()
    )


async def build_handoff(
    settings: Settings,
    config: HandoffConfig,
    *,
    clock: Clock = system_clock,
    redis: Redis | None = None,
) -> Handoff:
    """Wire everything from settings and config; nothing here runs at import time."""
    register_secrets(
        [settings.slack_bot_token.get_secret_value(), settings.slack_signing_secret.get_secret_value()]
    )
    stores = connect_settings(settings, redis)
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.api_url)
    gateway = SlackGateway(client)
    bot_user_id = str((await gateway.auth_test()).get("user_id", ""))
    playbooks = load_all_playbooks(config)
    # The values playbooks read from the environment are credentials: scrubbed from every log line too.
    register_secrets(os.environ[n] for p in playbooks for n in env_refs(p) if os.environ.get(n))
    core = build_core(
        config, stores.incidents, gateway, clock, bot_user_id, names_by_side(playbooks, os.environ, config)
    )
    metrics = Metrics()
    count_outcomes(core, metrics)
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0))
    alerts, alert_routes = build_alerts(config, stores, core, metrics)
    reminders, scheduler = build_reminders(config, core.store, gateway, core.directory, clock)
    services = Services(
        config=config,
        incidents=core.incidents,
        evidence=core.evidence,
        playbooks=build_playbooks(config, playbooks, stores, core, http),
        reminders=reminders,
        replies=Replies(gateway),
        tasks=BackgroundTasks("listeners"),
    )
    handoff = Handoff(
        settings=settings,
        config=config,
        stores=stores,
        core=core,
        services=services,
        alerts=alerts,
        scheduler=scheduler,
        http=http,
        bolt=build_bolt(settings, client, services),
        metrics=metrics,
        routes=alert_routes,
        slack_ok=True,  # auth.test above succeeded
    )
    handoff.asgi = build_asgi(
        handoff.bolt,
        metrics,
        handoff.readiness,
        start=handoff.start,
        stop=handoff.stop,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        routes=alert_routes,
    )
    return handoff
