"""The HTTP face of one bot: /slack/events through Bolt, the alert webhooks, health, readiness and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import structlog
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.http_guard import InboundLimits, SlackInbound
from bot.metrics import Metrics

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]
Lifecycle = Callable[[], Awaitable[None]]


def build_asgi(
    bolt: AsyncApp,
    metrics: Metrics,
    readiness: ReadinessCheck,
    *,
    start: Lifecycle,
    stop: Lifecycle,
    signing_secret: str,
    routes: Sequence[BaseRoute] = (),
    limits: InboundLimits | None = None,
) -> Starlette:
    """One Starlette app; `start`/`stop` run in its lifespan (uvicorn calls them once per process).

    `/slack/events` reaches Bolt only through `SlackInbound` (bot/http_guard.py): body capped and read with a
    deadline, signature verified on the raw bytes; anything else is refused before Bolt sees it.
    """
    slack_handler = SlackInbound(bolt, signing_secret, limits)

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        # Every log line of this request (and of the work it starts) carries the same request id.
        structlog.contextvars.bind_contextvars(request_id=os.urandom(6).hex())
        try:
            return await slack_handler.handle(request)
        finally:
            metrics.slack_requests.observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        checks = await readiness()
        return JSONResponse(checks, status_code=200 if all(checks.values()) else 503)

    async def serve_metrics(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await start()
        try:
            yield
        finally:
            await stop()

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", serve_metrics, methods=["GET"]),
            *routes,
        ],
        lifespan=lifespan,
    )


# Young-generation collections under load: one every 20,000 net allocations rather than CPython's 700. A request
# allocates a few thousand short-lived objects (pydantic models, ASGI messages) that reference counting frees
# anyway; each collection walks every young object still alive, the requests in flight among them.
GC_YOUNG_THRESHOLD = 20_000


def settle_heap() -> None:
    """For a serving process, once its app is built: collect start-up's garbage, freeze what is left (modules,
    config, playbooks: never garbage) and collect the young generation less often.

    Later collections skip the frozen objects: without this, the alert intake lost a fifth of its throughput
    and most of its p99 to collections walking the start-up heap (bench/bench_alerts.py). A process-wide
    setting, so it is the entry point's call (`handoff serve`), never the app's: tests build many apps in one
    process.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


async def answers(check: Callable[[], Awaitable[object]], within: float = 2.0) -> bool:
    """True when `check` answers truthy within `within` seconds; any error counts as not ready."""
    with contextlib.suppress(Exception):
        return bool(await asyncio.wait_for(check(), within))
    return False
