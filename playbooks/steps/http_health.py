"""Step http_health: is a serving endpoint ready, and does it answer within its latency budget."""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx

from bot.domain.models import Asset, AssetKind
from playbooks.context import StepContext
from playbooks.durations import format_duration
from playbooks.http import auth_headers
from playbooks.results import Finding
from playbooks.schema import HttpHealthStep

# The request gets most of the attempt's time, so that a hung endpoint is reported as such (anomalous)
# rather than as a timed-out step (unknown).
_REQUEST_SHARE = 0.8


def target(step: HttpHealthStep) -> str:
    base = step.url.rstrip("/")
    if step.preset == "kserve_v2":
        # Only the per-model route tells whether the model can serve; /v2/health/ready stays 200 without it.
        return f"{base}/v2/models/{quote(step.model or '', safe='')}/ready"
    if step.preset == "mlflow":
        return f"{base}/ping"
    return step.url


def _subject(step: HttpHealthStep) -> tuple[str, Asset]:
    if step.preset == "kserve_v2" and step.model:
        return f"model {step.model}", Asset(kind=AssetKind.ENDPOINT, name=step.model[:200])
    path = httpx.URL(target(step)).path or "/"
    name = step.model or httpx.URL(step.url).host or path
    return f"{path}", Asset(kind=AssetKind.ENDPOINT, name=name[:200])


async def execute(step: HttpHealthStep, ctx: StepContext) -> Finding:
    url = target(step)
    subject, asset = _subject(step)
    budget = format_duration(step.latency_budget)
    request_timeout = ctx.timeout * _REQUEST_SHARE
    headers = auth_headers(step.token, step.headers)
    started = time.monotonic()
    try:
        response = await ctx.http.get(url, headers=headers, timeout=request_timeout, follow_redirects=False)
    except httpx.TimeoutException:
        detail = f"{subject}: no answer within {format_duration(request_timeout)}"
        return Finding(outcome="anomalous", detail=detail, asset=asset)
    except httpx.TransportError as exc:
        detail = f"{subject}: unreachable ({type(exc).__name__})"
        return Finding(outcome="anomalous", detail=detail, asset=asset)
    latency = time.monotonic() - started
    metrics = {"status_code": float(response.status_code), "latency_seconds": latency}
    took = format_duration(latency)
    if not response.is_success:
        ready = "not ready" if step.preset != "url" else "failing"
        detail = f"{subject} {ready}: {httpx.URL(url).path} answered {response.status_code} in {took}"
        return Finding(outcome="anomalous", detail=detail, asset=asset, metrics=metrics)
    if latency > step.latency_budget:
        detail = f"{subject} answered {response.status_code} but slowly: {took}, over the {budget} budget"
        return Finding(outcome="anomalous", detail=detail, asset=asset, metrics=metrics)
    detail = f"{subject} healthy: {response.status_code} in {took} (budget {budget})"
    return Finding(outcome="ok", detail=detail, asset=asset, metrics=metrics)
