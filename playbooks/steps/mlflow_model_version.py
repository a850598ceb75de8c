"""Step mlflow_model_version: a version created or an alias moved in the MLflow registry in the window."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.domain.models import Asset, AssetKind
from playbooks.context import StepContext
from playbooks.durations import format_duration
from playbooks.errors import StepError
from playbooks.http import auth_headers, get_json
from playbooks.results import Finding
from playbooks.schema import MlflowModelVersionStep
from playbooks.snapshots import Change, observe, snapshot_name

_SEARCH_PAGE = 50


def _at(epoch_ms: object) -> datetime:
    return datetime.fromtimestamp(int(str(epoch_ms)) / 1000, UTC)


def _ago(now: datetime, then: datetime) -> str:
    return format_duration((now - then).total_seconds())


def _word(change: Change) -> str:
    if change.before is None:
        return f"alias {change.name} set to version {change.after}"
    if change.after is None:
        return f"alias {change.name} removed (was version {change.before})"
    return f"alias {change.name} moved from version {change.before} to {change.after}"


async def execute(step: MlflowModelVersionStep, ctx: StepContext) -> Finding:
    if "'" in step.model or '"' in step.model:
        raise StepError("the model name contains a quote")
    api = f"{step.tracking_uri.rstrip('/')}/api/2.0/mlflow"
    headers = auth_headers(step.token)
    registered = await get_json(
        ctx, f"{api}/registered-models/get", params={"name": step.model}, headers=headers
    )
    search = await get_json(
        ctx,
        f"{api}/model-versions/search",
        params={
            "filter": f"name='{step.model}'",
            "order_by": "creation_timestamp DESC",
            "max_results": _SEARCH_PAGE,
        },
        headers=headers,
    )
    model: dict[str, Any] = registered.get("registered_model") or {}
    versions: list[dict[str, Any]] = search.get("model_versions") or []
    aliases = {str(a["alias"]): str(a["version"]) for a in model.get("aliases") or []}
    if step.aliases:
        aliases = {name: v for name, v in aliases.items() if name in step.aliases}
    # Compared with a snapshot that is stored scrubbed: scrub them the same way first.
    aliases = {ctx.redactor(name): ctx.redactor(v) for name, v in aliases.items()}

    recent = [v for v in versions if (ctx.now - _at(v["creation_timestamp"])).total_seconds() <= step.window]
    # MLflow keeps no time for an alias change: it is seen by comparing with the aliases of the last run.
    where = snapshot_name(step.tracking_uri, step.model)
    seen = await observe(ctx.snapshots, "model_aliases", where, aliases, ctx.now, step.window, _word)

    asset = Asset(kind=AssetKind.MODEL, name=step.model[:200])
    link = f"{step.tracking_uri.rstrip('/')}/#/models/{quote(step.model, safe='')}"
    window = format_duration(step.window)
    metrics = {"versions_in_window": float(len(recent))}
    events = [
        f"version {v['version']} created {_ago(ctx.now, _at(v['creation_timestamp']))} ago" for v in recent
    ]
    if seen.anomalous and seen.changed_at is not None:
        events += [f"{change} (first seen {_ago(ctx.now, seen.changed_at)} ago)" for change in seen.changes]
    now_points = ", ".join(f"{a} -> {v}" for a, v in sorted(aliases.items())) or "no aliases"
    if events:
        detail = f"{step.model} changed in the last {window}: " + "; ".join(events) + f"; now {now_points}"
        return Finding(outcome="anomalous", detail=detail, asset=asset, link=link, metrics=metrics)
    latest = versions[0] if versions else None
    if latest is None:
        detail = f"{step.model} has no versions; {now_points}"
    else:
        age = _ago(ctx.now, _at(latest["creation_timestamp"]))
        detail = (
            f"{step.model}: no change in the last {window}; latest version {latest['version']} ({age} old)"
        )
        detail += f"; {now_points}"
    if seen.state == "baseline":
        detail += " (alias baseline recorded)"
    return Finding(outcome="ok", detail=detail, asset=asset, link=link, metrics=metrics)
