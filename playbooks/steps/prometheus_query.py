"""Step prometheus_query: an instant PromQL query whose samples are compared with a threshold."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Literal

from playbooks.context import StepContext
from playbooks.errors import StepError
from playbooks.http import auth_headers, json_body, raise_for_status
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


def samples(data: dict[str, Any]) -> list[tuple[str, float]]:
    """(series, value) pairs of an instant query's `data`; a matrix is refused."""
    kind, result = data.get("resultType"), data.get("result") or []
    if kind == "scalar":
        return [("scalar", float(result[1]))]
    if kind == "vector":
        return [(_series(s.get("metric", {})), float(s["value"][1])) for s in result]
    raise StepError(f"the query returned a {kind}; use an expression that returns a vector or a scalar")


async def execute(step: PrometheusQueryStep, ctx: StepContext) -> Finding:
    response = await ctx.http.get(
        f"{step.url.rstrip('/')}/api/v1/query",
        params={"query": step.query},
        headers=auth_headers(step.token),
        timeout=ctx.timeout,
    )
    if response.status_code in (400, 422):
        # Prometheus explains a bad query in the body: say that, not just the status.
        body = json_body(response)
        raise StepError(f"Prometheus refused the query: {body.get('errorType')}: {body.get('error')}")
    raise_for_status(response)
    body = json_body(response)
    if body.get("status") != "success":
        raise StepError(f"Prometheus answered {body.get('status')}: {body.get('error')}")
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
