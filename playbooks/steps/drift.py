"""Step drift: PSI and a two-sample KS test between a reference and a current sample read with SQL."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from scipy import stats
from sqlalchemy.engine import Connection

from bot.domain.models import Asset, AssetKind
from playbooks import sql
from playbooks.context import StepContext
from playbooks.errors import StepError
from playbooks.identifiers import TableName, column_name
from playbooks.results import Finding
from playbooks.schema import DriftStep

Sample = NDArray[np.float64]


def psi(reference: Sample, current: Sample, bins: int = 10, epsilon: float = 1e-4) -> float:
    """Population stability index over bins cut at the reference's quantiles: sum((a - e) * ln(a / e)).

    The outer bins are open, so current values beyond the reference's range still count; an empty bin
    gets `epsilon` instead of 0 so that the logarithm stays finite.
    """
    edges = np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)))
    inner = edges[1:-1]
    expected = np.bincount(np.searchsorted(inner, reference, side="right"), minlength=inner.size + 1)
    actual = np.bincount(np.searchsorted(inner, current, side="right"), minlength=inner.size + 1)
    e = np.maximum(expected / reference.size, epsilon)
    a = np.maximum(actual / current.size, epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class DriftReading:
    psi: float
    ks_statistic: float
    ks_pvalue: float
    n_reference: int
    n_current: int
    shift: float  # difference of means, in reference standard deviations


def compare(reference: Sample, current: Sample, bins: int, epsilon: float) -> DriftReading:
    ks = stats.ks_2samp(reference, current)
    spread = float(np.std(reference)) or 1.0
    return DriftReading(
        psi=psi(reference, current, bins, epsilon),
        ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
        n_reference=int(reference.size),
        n_current=int(current.size),
        shift=(float(np.mean(current)) - float(np.mean(reference))) / spread,
    )


def _to_sample(rows: list[object], which: str) -> Sample:
    try:
        values = np.asarray([float(v) for v in rows if v is not None], dtype=np.float64)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StepError(f"the {which} sample is not numeric") from None
    return values[np.isfinite(values)]


def _fetch(conn: Connection, statement: sa.TextClause, params: dict[str, object], limit: int) -> list[object]:
    result = conn.execute(statement, params)
    return [row[0] for row in result.fetchmany(limit)]


def _windows(step: DriftStep, now: datetime) -> dict[str, object]:
    current_start = now - timedelta(seconds=step.current_window)
    return {
        "now": now,
        "current_start": current_start,
        "reference_end": current_start,
        "reference_start": current_start - timedelta(seconds=step.reference_window),
    }


def _load(step: DriftStep, conn: Connection, now: datetime) -> tuple[list[object], list[object]]:
    windows = _windows(step, now)
    if step.table is not None and step.column is not None and step.time_column is not None:
        table = TableName.parse(step.table)
        col = sql.quote_column(conn.dialect, column_name(step.column))
        tcol = sql.quote_column(conn.dialect, column_name(step.time_column))
        base = (
            f"SELECT {col} FROM {sql.quote_table(conn.dialect, table)} "
            f"WHERE {tcol} >= :start AND {tcol} < :end AND {col} IS NOT NULL LIMIT {step.sample_limit}"
        )
        statement = sa.text(base)
        reference = _fetch(
            conn,
            statement,
            {"start": windows["reference_start"], "end": windows["reference_end"]},
            step.sample_limit,
        )
        current = _fetch(
            conn, statement, {"start": windows["current_start"], "end": windows["now"]}, step.sample_limit
        )
        return reference, current
    samples = []
    for query in (step.reference_query, step.current_query):
        statement = sa.text(query or "")
        # Values reach the query only as bind parameters; pass the ones it names.
        wanted = set(statement.compile().params)
        given = {**windows, **step.query_params}
        missing = wanted - set(given)
        if missing:
            raise StepError(
                f"the query uses :{', :'.join(sorted(missing))} but query_params has no such value"
            )
        samples.append(
            _fetch(conn, statement, {k: v for k, v in given.items() if k in wanted}, step.sample_limit)
        )
    return samples[0], samples[1]


def _number(x: float) -> str:
    return f"{x:.2e}" if x != 0 and abs(x) < 1e-3 else f"{x:.3f}"


async def execute(step: DriftStep, ctx: StepContext) -> Finding:
    names = [n for n in (step.column, step.time_column) if n]
    if step.table:
        names += [*TableName.parse(step.table).parts, step.table]
    rows_ref, rows_cur = await sql.read_only(
        step.url, lambda conn: _load(step, conn, ctx.now), ctx.timeout, names=names
    )
    reference, current = _to_sample(rows_ref, "reference"), _to_sample(rows_cur, "current")
    name = f"{step.table}.{step.column}" if step.table else step.id
    asset = Asset(kind=AssetKind.FEATURE, name=name[:200]) if step.table else None
    if reference.size == 0 or current.size == 0:
        empty = "reference" if reference.size == 0 else "current"
        return Finding(outcome="inconclusive", detail=f"{name}: the {empty} sample has no rows", asset=asset)
    reading = await asyncio.to_thread(compare, reference, current, step.bins, step.epsilon)
    metrics = {
        "psi": reading.psi,
        "ks_statistic": reading.ks_statistic,
        "ks_pvalue": reading.ks_pvalue,
        "n_reference": float(reading.n_reference),
        "n_current": float(reading.n_current),
        "mean_shift_sd": reading.shift,
    }
    judged_ks = min(reading.n_reference, reading.n_current) >= step.min_sample
    psi_drift = reading.psi > step.psi_threshold
    ks_drift = judged_ks and reading.ks_pvalue < step.ks_pvalue
    ks_text = f"KS p={_number(reading.ks_pvalue)}" + (
        "" if judged_ks else f" (not judged below n={step.min_sample})"
    )
    parts = [
        f"PSI {_number(reading.psi)}" + (f" > {step.psi_threshold}" if psi_drift else ""),
        ks_text + (f" < {step.ks_pvalue}" if ks_drift else ""),
        f"n={reading.n_reference}/{reading.n_current}",
        f"mean shift {reading.shift:+.2f} sd",
    ]
    verdict = "drift" if psi_drift or ks_drift else "no drift"
    detail = f"{name}: {verdict}: " + ", ".join(parts)
    if math.isnan(reading.psi):
        return Finding(outcome="inconclusive", detail=detail, asset=asset, metrics=metrics)
    outcome = "anomalous" if psi_drift or ks_drift else "ok"
    return Finding(outcome=outcome, detail=detail, asset=asset, metrics=metrics)
