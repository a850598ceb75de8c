"""Step prometheus_query: an instant PromQL query whose samples are compared with a threshold."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Literal

from playbooks.context import StepContext
from playbooks.errors import StepError
from playbooks.http import auth_headers, json_body, raise_for_status
from playbooks.redaction import Redactor
from playbooks.results import Finding
from playbooks.schema import PrometheusQueryStep

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_SHOWN = 3
_EMPTY: dict[str, Literal["ok", "anomalous", "inconclusive"]] = {
    "ok": "ok",
    "anomalous": "anomalous",
    "unknown": "inconclusive",
}


def _series(metric: dict[str, str]) -> str:
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{metric.get('__name__', '')}{{{labels}}}"


def _reason(body: Any, redactor: Redactor) -> str:
    if not isinstance(body, dict):
        return "no reason given"
    kind, error = body.get("errorType"), body.get("error")
    return redactor.excerpt(f"{kind}: {error}" if kind else str(error))


def samples(data: dict[str, Any]) -> list[tuple[str, float]]:
    """(series, value) pairs of an instant query's `data`; a matrix is refused."""
    kind, result = data.get("resultType"), data.get("result") or []
    if kind == "scalar":
        return [("scalar", float(result[1]))]
    if kind == "vector":
        return [(_series(s.get("metric", {})), float(s["value"][1])) for s in result]
    shown = kind if kind in ("matrix", "string", "streams") else "result of an unknown type"
    raise StepError(f"the query returned a {shown}; use an expression that returns a vector or a scalar")


async def execute(step: PrometheusQueryStep, ctx: StepContext) -> Finding:
    response = await ctx.http.get(
        f"{step.url.rstrip('/')}/api/v1/query",
        params={"query": step.query},
        headers=auth_headers(step.token),
        timeout=ctx.timeout,
        follow_redirects=False,
    )
    if response.status_code in (400, 422):
        # Prometheus explains a bad query in the body: say that (redacted, short), not just the status.
        body = json_body(response, ctx.redactor)
        raise StepError(f"Prometheus refused the query: {_reason(body, ctx.redactor)}")
    raise_for_status(response, ctx.redactor)
    body = json_body(response, ctx.redactor)
    if body.get("status") != "success":
        status = ctx.redactor.excerpt(str(body.get("status")), 20)
        raise StepError(f"Prometheus answered {status}: {_reason(body, ctx.redactor)}")
    found = samples(body["data"])
    compare = _OPS[step.op]
    condition = f"{step.op} {step.threshold:g}"
    if not found:
        detail = f"the query returned no series (empty is {step.empty})"
        return Finding(outcome=_EMPTY[step.empty], detail=detail)
    breaching = [(s, v) for s, v in found if compare(v, step.threshold)]
    values = [v for _, v in found]
    metrics = {
        "series": float(len(found)),
        "breaching": float(len(breaching)),
        "max": max(values),
        "min": min(values),
    }
    if breaching:
        shown = ", ".join(f"{s} = {v:g}" for s, v in breaching[:_SHOWN])
        more = f" and {len(breaching) - _SHOWN} more" if len(breaching) > _SHOWN else ""
        detail = f"{len(breaching)} of {len(found)} series {condition}: {shown}{more}"
        return Finding(outcome="anomalous", detail=detail, metrics=metrics)
    detail = f"none of {len(found)} series {condition} (min {min(values):g}, max {max(values):g})"
    return Finding(outcome="ok", detail=detail, metrics=metrics)
