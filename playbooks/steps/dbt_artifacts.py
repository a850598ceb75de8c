"""Step dbt_artifacts: failed tests, stale sources and the upstream lineage of a node, from dbt's files."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.models import Asset, AssetKind
from playbooks.context import StepContext
from playbooks.durations import format_duration
from playbooks.errors import StepError
from playbooks.http import auth_headers, raise_for_status
from playbooks.results import Finding
from playbooks.schema import DbtArtifactsStep

RUN_RESULTS = "run_results.json"
SOURCES = "sources.json"
MANIFEST = "manifest.json"
_FAILED_TEST = {"fail", "error", "runtime error"}
_FAILED_NODE = {"error", "runtime error"}
_STALE = {"error", "runtime error"}
_SHOWN = 4


async def read_artifact(step: DbtArtifactsStep, ctx: StepContext, name: str) -> dict[str, Any] | None:
    """An artifact from the folder or URL; None when it is not there."""
    location = step.artifacts
    if location.startswith(("http://", "https://")):
        response = await ctx.http.get(
            f"{location.rstrip('/')}/{name}",
            headers=auth_headers(step.token),
            timeout=ctx.timeout,
            follow_redirects=False,
        )
        if response.status_code == 404:
            return None
        raise_for_status(response, ctx.redactor)
        # A manifest can be tens of megabytes: parse it off the event loop.
        text = response.text
    else:
        path = Path(location) / name
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StepError(f"cannot read {name}: {exc.strerror}") from None
    try:
        value = await asyncio.to_thread(json.loads, text)
    except ValueError:
        raise StepError(f"{name} is not JSON") from None
    if not isinstance(value, dict):
        raise StepError(f"{name} is not a dbt artifact")
    return value


def label(unique_id: str) -> str:
    """`model.pkg.stg_users` -> `stg_users`; `source.pkg.raw.raw_users` -> `raw.raw_users`; tests by name."""
    parts = unique_id.split(".")
    if parts[0] == "source" and len(parts) >= 4:
        return ".".join(parts[2:4])
    return parts[2] if len(parts) >= 3 else unique_id


@dataclass
class Health:
    """What went wrong per node, from run_results.json and sources.json."""

    failed_tests: dict[str, list[str]] = field(default_factory=dict)  # tested node -> failed test names
    failed_nodes: dict[str, str] = field(default_factory=dict)  # node -> status
    skipped: set[str] = field(default_factory=set)
    stale: dict[str, str] = field(default_factory=dict)  # source -> how stale

    def problems(self, node: str) -> list[str]:
        out = []
        if node in self.failed_nodes:
            out.append(f"{label(node)} {self.failed_nodes[node]}")
        if tests := self.failed_tests.get(node):
            shown = ", ".join(tests[:_SHOWN]) + (" ..." if len(tests) > _SHOWN else "")
            out.append(f"{label(node)} failed {len(tests)} test{'s' if len(tests) > 1 else ''} ({shown})")
        if node in self.stale:
            out.append(f"source {label(node)} stale ({self.stale[node]})")
        return out


def _tested_node(test_id: str, parent_map: dict[str, list[str]]) -> str:
    parents = [p for p in parent_map.get(test_id, []) if not p.startswith("test.")]
    return parents[0] if parents else test_id


def _staleness(result: dict[str, Any]) -> str:
    ago = result.get("max_loaded_at_time_ago_in_s")
    criteria = result.get("criteria") or {}
    error_after = criteria.get("error_after") or {}
    limit = (
        f", error after {error_after['count']} {error_after['period']}s"
        if error_after.get("count") and error_after.get("period")
        else ""
    )
    loaded = (
        f"last loaded {format_duration(float(ago))} ago" if isinstance(ago, int | float) else "not loaded"
    )
    return f"{result.get('status')}: {loaded}{limit}"


def health(
    run_results: dict[str, Any] | None,
    sources: dict[str, Any] | None,
    parent_map: dict[str, list[str]],
    warn_is_anomalous: bool,
) -> Health:
    found = Health()
    failing_tests = _FAILED_TEST | ({"warn"} if warn_is_anomalous else set())
    for result in (run_results or {}).get("results", []):
        uid, status = str(result.get("unique_id")), str(result.get("status"))
        if uid.startswith("test.") and status in failing_tests:
            found.failed_tests.setdefault(_tested_node(uid, parent_map), []).append(label(uid))
        elif status in _FAILED_NODE:
            found.failed_nodes[uid] = status
        elif status == "skipped" and not uid.startswith("test."):
            found.skipped.add(uid)
    stale = _STALE | ({"warn"} if warn_is_anomalous else set())
    for result in (sources or {}).get("results", []):
        if str(result.get("status")) in stale:
            found.stale[str(result.get("unique_id"))] = _staleness(result)
    return found


def upstream(node: str, parent_map: dict[str, list[str]]) -> list[str]:
    """The node and everything it is built from, nearest first (tests excluded)."""
    seen = [node]
    queue = deque([node])
    while queue:
        for parent in parent_map.get(queue.popleft(), []):
            if parent not in seen and not parent.startswith("test."):
                seen.append(parent)
                queue.append(parent)
    return seen


def resolve_node(wanted: str, nodes: Iterable[str]) -> str:
    """A unique_id from a unique_id, a model name or `source.table`; models win over other kinds."""
    candidates = [
        n
        for n in nodes
        if not n.startswith("test.") and (n == wanted or label(n) == wanted or n.split(".")[-1] == wanted)
    ]
    if not candidates:
        raise StepError(f"{wanted} is not a node of the dbt manifest")
    return sorted(candidates, key=lambda n: (not n.startswith("model."), n))[0]


def _asset(node: str) -> Asset:
    return Asset(kind=AssetKind.TABLE, name=label(node).split(".")[-1][:200])


async def _tests(step: DbtArtifactsStep, ctx: StepContext) -> Finding:
    run_results = await read_artifact(step, ctx, RUN_RESULTS)
    if run_results is None:
        raise StepError(f"{RUN_RESULTS} not found in the artifacts")
    manifest = await read_artifact(step, ctx, MANIFEST)
    parent_map = (manifest or {}).get("parent_map", {})
    found = health(run_results, None, parent_map, step.warn_is_anomalous)
    tests = [r for r in run_results.get("results", []) if str(r.get("unique_id")).startswith("test.")]
    problems = [p for node in [*found.failed_nodes, *found.failed_tests] for p in found.problems(node)]
    failed = sum(len(t) for t in found.failed_tests.values())
    metrics = {
        "tests": float(len(tests)),
        "failed_tests": float(failed),
        "failed_nodes": float(len(found.failed_nodes)),
    }
    if not problems:
        return Finding(outcome="ok", detail=f"all {len(tests)} tests passed, no node failed", metrics=metrics)
    first = next(iter([*found.failed_nodes, *found.failed_tests]))
    detail = f"{failed} of {len(tests)} tests failed: " + "; ".join(problems)
    return Finding(outcome="anomalous", detail=detail, asset=_asset(first), metrics=metrics)


async def _freshness(step: DbtArtifactsStep, ctx: StepContext) -> Finding:
    sources = await read_artifact(step, ctx, SOURCES)
    if sources is None:
        raise StepError(f"{SOURCES} not found in the artifacts: run `dbt source freshness`")
    found = health(None, sources, {}, step.warn_is_anomalous)
    checked = len(sources.get("results", []))
    metrics = {"sources": float(checked), "stale": float(len(found.stale))}
    if not found.stale:
        return Finding(outcome="ok", detail=f"all {checked} sources fresh", metrics=metrics)
    problems = [p for node in found.stale for p in found.problems(node)]
    detail = f"{len(found.stale)} of {checked} sources stale: " + "; ".join(problems)
    return Finding(outcome="anomalous", detail=detail, asset=_asset(next(iter(found.stale))), metrics=metrics)


async def _lineage(step: DbtArtifactsStep, ctx: StepContext) -> Finding:
    manifest, run_results, sources = await asyncio.gather(
        read_artifact(step, ctx, MANIFEST),
        read_artifact(step, ctx, RUN_RESULTS),
        read_artifact(step, ctx, SOURCES),
    )
    if manifest is None or "parent_map" not in manifest:
        raise StepError(f"{MANIFEST} with a parent_map not found in the artifacts")
    parent_map: dict[str, list[str]] = manifest["parent_map"]
    node = resolve_node(step.node or "", parent_map)
    chain = upstream(node, parent_map)
    found = health(run_results, sources, parent_map, step.warn_is_anomalous)
    problems = [(n, p) for n in chain for p in found.problems(n)]
    names = [label(n) for n in chain[1:]]
    lineage = f"{label(node)} <- " + ", ".join(names) if names else f"{label(node)} (no upstream nodes)"
    missing = [name for name, a in ((RUN_RESULTS, run_results), (SOURCES, sources)) if a is None]
    note = f" ({', '.join(missing)} not found: not checked)" if missing else ""
    metrics = {
        "upstream_nodes": float(len(chain) - 1),
        "anomalous_nodes": float(len({n for n, _ in problems})),
    }
    if problems:
        # The farthest upstream anomaly is the likeliest cause: what is downstream of it inherits it.
        root = max((n for n, _ in problems), key=chain.index)
        detail = f"{lineage}: " + "; ".join(p for _, p in problems) + note
        return Finding(outcome="anomalous", detail=detail, asset=_asset(root), metrics=metrics)
    if run_results is None and sources is None:
        return Finding(
            outcome="inconclusive", detail=f"{lineage}: no test or freshness results", metrics=metrics
        )
    skipped = [label(n) for n in chain if n in found.skipped]
    extra = f"; skipped in the last run: {', '.join(skipped)}" if skipped else ""
    return Finding(
        outcome="ok",
        detail=f"{lineage}: no failed test or stale source upstream{extra}{note}",
        metrics=metrics,
    )


async def execute(step: DbtArtifactsStep, ctx: StepContext) -> Finding:
    if step.report == "tests":
        return await _tests(step, ctx)
    if step.report == "freshness":
        return await _freshness(step, ctx)
    return await _lineage(step, ctx)
