"""The composition root: build the bot from typed settings and config, and serve it as one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from redis.asyncio import Redis
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import HandoffConfig
from bot.domain.incident import Incident
from bot.logging import register_secrets
from bot.metrics import Metrics
from bot.services.clock import Clock, system_clock
from bot.services.deps import Services
from bot.services.directory import ResponderDirectory
from bot.services.evidence import EvidenceService
from bot.services.incidents import IncidentService
from bot.services.messages import IncidentMessages
from bot.settings import Settings
from bot.slack.gateway import SlackGateway, make_client
from bot.store.redis_store import RedisIncidentStore

log = structlog.get_logger(__name__)


@dataclass
class Handoff:
    """One running bot: its services, its Bolt app and its ASGI app."""

    settings: Settings
    config: HandoffConfig
    redis: Redis
    services: Services
    bolt: AsyncApp
    metrics: Metrics
    background: list[asyncio.Task[Any]] = field(default_factory=list)
    slack_ok: bool = False
    asgi: Starlette | None = None

    async def start(self) -> None:
        """Start-up work: finish interrupted openings, post unposted decisions, start background workers."""
        with contextlib.suppress(Exception):
            await self.services.gateway.auth_test()
            self.slack_ok = True
        with contextlib.suppress(Exception):
            await self.services.directory.warm()
        self.background.append(asyncio.create_task(self.services.incidents.keep_resuming()))
        await self.services.evidence.recover_decisions()
        for starter in self.services.extras.get("starters", []):
            self.background.append(asyncio.create_task(starter()))

    async def stop(self, grace: float = 10.0) -> None:
        from handlers.errors import drain_inflight

        await drain_inflight(grace)
        for task in self.background:
            task.cancel()
        for task in self.background:
            with contextlib.suppress(BaseException):
                await task
        self.background.clear()
        for stopper in self.services.extras.get("stoppers", []):
            with contextlib.suppress(Exception):
                await stopper()
        await self.redis.aclose()


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
    redis = redis or Redis.from_url(settings.redis_url)
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.api_url)
    gateway = SlackGateway(client)
    auth = await gateway.auth_test()
    bot_user_id = str(auth.get("user_id", ""))
    store = RedisIncidentStore(redis)
    directory = ResponderDirectory(config, gateway)
    messages = IncidentMessages(gateway, directory)
    checklists = config.checklist_templates()
    incidents = IncidentService(store, gateway, directory, messages, config, checklists, clock, bot_user_id)
    evidence = EvidenceService(store, gateway, directory, messages, clock)
    services = Services(
        config=config,
        store=store,
        gateway=gateway,
        directory=directory,
        incidents=incidents,
        evidence=evidence,
        clock=clock,
        bot_user_id=bot_user_id,
    )
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=True,
    )
    from handlers import register_listeners

    register_listeners(bolt, services)
    metrics = Metrics()
    handoff = Handoff(
        settings=settings, config=config, redis=redis, services=services, bolt=bolt, metrics=metrics
    )
    handoff.slack_ok = True  # auth.test above succeeded

    async def count_opened(incident: Incident) -> None:
        metrics.incidents_opened.labels(origin=incident.origin).inc()

    incidents.on_opened.append(count_opened)
    evidence.on_decided.append(lambda _, decision: metrics.decisions.labels(owner=decision.owner.value).inc())
    from bot.wiring import wire_optional

    wire_optional(handoff)
    handoff.asgi = build_asgi(handoff)
    return handoff


def build_asgi(handoff: Handoff, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    slack_handler = AsyncSlackRequestHandler(handoff.bolt)

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        # Every log line of this request (and of the work it starts) carries the same request id.
        structlog.contextvars.bind_contextvars(request_id=uuid.uuid4().hex[:12])
        try:
            return await slack_handler.handle(request)
        finally:
            handoff.metrics.slack_requests.observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        checks = {"redis": False, "slack": handoff.slack_ok}
        with contextlib.suppress(Exception):
            checks["redis"] = bool(await asyncio.wait_for(handoff.redis.ping(), 2))
        return JSONResponse(checks, status_code=200 if all(checks.values()) else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(handoff.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await handoff.start()
        yield
        await handoff.stop()

    routes: list[BaseRoute] = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *handoff.services.extras.get("routes", []),
        *(extra_routes or []),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
