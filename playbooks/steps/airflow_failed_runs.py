"""Step airflow_failed_runs: failed DAG runs with their failed tasks, or backfill runs, in the window."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from bot.domain.models import Asset, AssetKind
from playbooks.context import StepContext
from playbooks.durations import format_duration
from playbooks.http import auth_headers, get_json, post_json
from playbooks.results import Finding
from playbooks.schema import AirflowFailedRunsStep
from playbooks.sql import as_utc

_SHOWN = 3


def _when(run: Mapping[str, Any], *fields: str) -> datetime | None:
    for name in fields:
        value = run.get(name)
        if value:
            return as_utc(str(value).replace("Z", "+00:00"), f"the {name} of a DAG run")
    return None


def _short(run_id: str) -> str:
    # `manual__2026-11-28T15:51:46.814101+00:00` reads better without its fraction and zone.
    return run_id.split(".")[0]


async def _list_runs(
    step: AirflowFailedRunsStep, ctx: StepContext, api: str, since: datetime
) -> dict[str, Any]:
    body: dict[str, Any] = {"page_limit": step.page_limit}
    if step.dag_ids:
        body["dag_ids"] = step.dag_ids
    if step.report == "failed_jobs":
        body |= {"states": ["failed"], "end_date_gte": since.isoformat(), "order_by": "-end_date"}
    else:
        body |= {"start_date_gte": since.isoformat(), "order_by": "-start_date"}
    headers = auth_headers(step.token, username=step.username, password=step.password)
    runs: dict[str, Any] = await post_json(ctx, f"{api}/dags/~/dagRuns/list", body, headers=headers)
    return runs


async def _failed_tasks(
    step: AirflowFailedRunsStep, ctx: StepContext, api: str, run: Mapping[str, Any]
) -> list[str]:
    url = (
        f"{api}/dags/{quote(str(run['dag_id']), safe='')}/dagRuns/{quote(str(run['dag_run_id']), safe='')}"
        "/taskInstances"
    )
    headers = auth_headers(step.token, username=step.username, password=step.password)
    answer = await get_json(ctx, url, params={"state": "failed"}, headers=headers)
    return [str(ti["task_id"]) for ti in answer.get("task_instances", []) if ti.get("state") == "failed"]


async def execute(step: AirflowFailedRunsStep, ctx: StepContext) -> Finding:
    api = f"{step.url.rstrip('/')}/api/{step.api}"
    since = ctx.now - timedelta(seconds=step.window)
    window = format_duration(step.window)
    answer = await _list_runs(step, ctx, api, since)
    listed: list[dict[str, Any]] = answer.get("dag_runs", [])
    scope = f"DAGs {', '.join(step.dag_ids)}" if step.dag_ids else "all DAGs"
    # The server filters too; filtering again keeps the window exact whatever the server version honours.
    if step.report == "failed_jobs":
        runs = [
            r
            for r in listed
            if r.get("state") == "failed"
            and (t := _when(r, "end_date", "start_date", "queued_at"))
            and t >= since
        ]
        noun = "failed run"
    else:
        runs = [
            r
            for r in listed
            if r.get("run_type") == "backfill"
            and ((t := _when(r, "start_date", "run_after", "queued_at")) is None or t >= since)
        ]
        noun = "backfill run"
    metrics = {"runs": float(len(runs))}
    if not runs:
        return Finding(outcome="ok", detail=f"no {noun}s in the last {window} ({scope})", metrics=metrics)

    lines = []
    if step.report == "failed_jobs":
        lookups = runs[: step.max_task_lookups]
        tasks = await asyncio.gather(*(_failed_tasks(step, ctx, api, r) for r in lookups))
        for run, failed in zip(lookups, tasks, strict=True):
            what = f"failed tasks: {', '.join(failed)}" if failed else "no failed task listed"
            lines.append(f"{run['dag_id']} ({_short(str(run['dag_run_id']))}) {what}")
        lines += [f"{r['dag_id']} ({_short(str(r['dag_run_id']))})" for r in runs[len(lookups) :]]
    else:
        for run in runs:
            started = _when(run, "start_date", "run_after", "queued_at")
            ago = f", started {format_duration((ctx.now - started).total_seconds())} ago" if started else ""
            lines.append(f"{run['dag_id']} ({run.get('state')}{ago})")
    shown = "; ".join(lines[:_SHOWN]) + (f"; and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else "")
    total = answer.get("total_entries")
    partial = (
        f" (first {len(listed)} of {total} listed)" if isinstance(total, int) and total > len(listed) else ""
    )
    plural = "s" if len(runs) != 1 else ""
    detail = f"{len(runs)} {noun}{plural} in the last {window}{partial}: {shown}"
    asset = Asset(kind=AssetKind.JOB, name=str(runs[0]["dag_id"])[:200])
    return Finding(outcome="anomalous", detail=detail, asset=asset, metrics=metrics)
