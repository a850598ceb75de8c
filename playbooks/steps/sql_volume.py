"""Step sql_volume: rows in the last window vs the average of the previous windows, within a band."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.domain.models import Asset, AssetKind
from playbooks import sql
from playbooks.context import StepContext
from playbooks.durations import format_duration
from playbooks.identifiers import TableName, column_name
from playbooks.results import Finding
from playbooks.schema import SqlVolumeStep


async def execute(step: SqlVolumeStep, ctx: StepContext) -> Finding:
    table = TableName.parse(step.table)
    column = column_name(step.column)
    n = step.baseline_windows
    # b0 = now, b1 = now - window, ...: window i is [b(i+1), b(i)); window 0 is the current one.
    bounds = {f"b{i}": ctx.now - timedelta(seconds=step.window * i) for i in range(n + 2)}

    def counts(conn: Connection) -> list[int]:
        col = sql.quote_column(conn.dialect, column)
        windows = ", ".join(
            f"count(CASE WHEN {col} >= :b{i + 1} AND {col} < :b{i} THEN 1 END) AS w{i}" for i in range(n + 1)
        )
        query = (
            f"SELECT {windows} FROM {sql.quote_table(conn.dialect, table)} "
            f"WHERE {col} >= :b{n + 1} AND {col} < :b0"
        )
        row = conn.execute(sa.text(query), bounds).one()
        return [int(v or 0) for v in row]

    names = (*table.parts, str(table), column)
    current, *previous = await sql.read_only(step.url, counts, ctx.timeout, names=names)
    baseline = sum(previous) / len(previous)
    low, high = max(0.0, baseline * (1 - step.tolerance)), baseline * (1 + step.tolerance)
    asset = Asset(kind=AssetKind.TABLE, name=str(table))
    window = format_duration(step.window)
    metrics = {"rows": float(current), "baseline": baseline, "low": low, "high": high}
    if baseline == 0:
        detail = (
            f"{table}: {current:,} rows in the last {window}, none in the {n} windows before: no baseline"
        )
        return Finding(outcome="inconclusive", detail=detail, asset=asset, metrics=metrics)
    change = (current - baseline) / baseline
    detail = (
        f"{table}: {current:,} rows in the last {window} vs a baseline of {baseline:,.0f} "
        f"(avg of {n} previous windows), {change:+.0%}; band {low:,.0f}-{high:,.0f}"
    )
    outcome = "ok" if low <= current <= high else "anomalous"
    return Finding(outcome=outcome, detail=detail, asset=asset, metrics=metrics)
