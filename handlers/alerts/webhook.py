"""POST /alerts/{source}: authenticate, validate and normalise an alert payload, then enqueue it durably."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import pydantic_core
import structlog
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.alerts.auth import verify
from bot.alerts.config import MAX_BODY_BYTES, AlertSourceConfig
from bot.alerts.metrics import UNKNOWN_SOURCE, IntakeMetrics
from bot.alerts.routing import RoutingRules
from bot.alerts.sources import normalise
from bot.domain.errors import IntakeUnavailable
from bot.http_guard import BODY_READ_TIMEOUT_S, Refused, read_capped
from bot.services.intake import AlertIntake

log = structlog.get_logger("handoff.alerts.webhook")

MAX_FIELD_ERRORS = 20  # field errors listed in a 422; a payload of 1,000 broken alerts gets the first ones


class _Refused(Exception):
    """A request refused with `status`; `reason` is logged and counted, `body` is what the sender sees."""

    def __init__(
        self, status: int, reason: str, body: Mapping[str, object] | None = None, *, close: bool = False
    ) -> None:
        super().__init__(reason)
        self.status, self.reason, self.close = status, reason, close
        self.body = dict(body or {"error": reason})


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Each problem as `{"field": "alerts.0.fingerprint", "message": ...}`, without the offending input."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"]}
        for err in errors[:MAX_FIELD_ERRORS]
    ]


class AlertWebhook:
    """The endpoint's state: the configured sources, the intake, the routing rules and the counters."""

    def __init__(
        self,
        sources: Mapping[str, AlertSourceConfig],
        intake: AlertIntake,
        routing: RoutingRules,
        metrics: IntakeMetrics,
        max_body_bytes: int,
        clock: Callable[[], float],
        read_timeout_s: float = BODY_READ_TIMEOUT_S,
    ) -> None:
        self.sources, self.intake, self.routing = dict(sources), intake, routing
        self.metrics, self.max_body_bytes, self.clock = metrics, max_body_bytes, clock
        self.read_timeout_s = read_timeout_s
        # The counters' children of each configured source, looked up once rather than per request.
        self._accepted = {
            name: (metrics.requests_accepted.labels(source=name), metrics.alerts_accepted.labels(source=name))
            for name in self.sources
        }

    async def receive(self, request: Request) -> Response:
        name = str(request.path_params["source"])
        try:
            return await self._accept(name, request)
        except _Refused as refused:
            label = name if name in self.sources else UNKNOWN_SOURCE
            self.metrics.requests_refused.labels(source=label, reason=refused.reason).inc()
            extra = {"fields": refused.body["fields"]} if "fields" in refused.body else {}
            log.warning(
                "alert_refused", source=name[:100], status=refused.status, reason=refused.reason, **extra
            )
            headers = {"connection": "close"} if refused.close else None
            return JSONResponse(refused.body, status_code=refused.status, headers=headers)

    async def _accept(self, name: str, request: Request) -> Response:
        source = self.sources.get(name)
        if source is None or not source.enabled:
            reason = "unknown_source" if source is None else "source_disabled"
            raise _Refused(404, reason, {"error": "not_found"})
        try:
            body = await read_capped(request, self.max_body_bytes, self.read_timeout_s)
        except Refused as refused:
            raise _Refused(refused.status, refused.reason, close=refused.close) from None
        if (failure := verify(source, request.headers, body, self.clock())) is not None:
            raise _Refused(401, failure.value, {"error": "unauthorized"})
        try:
            data = pydantic_core.from_json(body)
        except ValueError:
            raise _Refused(400, "malformed_json") from None
        try:
            alerts = normalise(data, source, self.routing, source_name=name, received_at=datetime.now(UTC))
        except ValidationError as exc:
            body_422 = {"error": "invalid_payload", "fields": field_errors(exc)}
            raise _Refused(422, "invalid_payload", body_422) from None
        try:
            await self.intake.accept(alerts)
        except IntakeUnavailable:
            log.exception("alert_inbox_unavailable", source=name, alerts=len(alerts))
            raise _Refused(503, "inbox_unavailable") from None
        requests_accepted, alerts_accepted = self._accepted[name]
        requests_accepted.inc()
        alerts_accepted.inc(len(alerts))
        log.info("alerts_accepted", source=name, accepted=len(alerts))
        accepted = {"accepted": len(alerts), "alerts": [a.dedup_key for a in alerts]}
        # pydantic_core's encoder: the same compact UTF-8 JSON as JSONResponse's json.dumps, at a fraction of
        # its cost.
        return Response(pydantic_core.to_json(accepted), status_code=202, media_type="application/json")


def alert_routes(
    sources: Mapping[str, AlertSourceConfig],
    intake: AlertIntake,
    routing: RoutingRules,
    *,
    registry: CollectorRegistry | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    clock: Callable[[], float] = time.time,
    read_timeout_s: float = BODY_READ_TIMEOUT_S,
) -> list[Route]:
    """The alert webhook route, `POST /alerts/{source}`, for the named sources.

    A source without a secret refuses every request; its absence is logged once here.
    """
    for name, source in sources.items():
        if source.enabled and not source.has_secret:
            log.warning("alert_source_without_secret", source=name, note="every request will be refused")
    metrics = IntakeMetrics.on(registry)
    endpoint = AlertWebhook(sources, intake, routing, metrics, max_body_bytes, clock, read_timeout_s)
    return [Route("/alerts/{source}", endpoint.receive, methods=["POST"], name="alert_webhook")]
