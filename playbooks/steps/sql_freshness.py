"""Step sql_freshness: max(timestamp column) of a table vs its SLA."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.domain.models import Asset, AssetKind
from playbooks import sql
from playbooks.context import StepContext
from playbooks.durations import format_duration
from playbooks.identifiers import TableName, column_name
from playbooks.results import Finding
from playbooks.schema import SqlFreshnessStep


async def execute(step: SqlFreshnessStep, ctx: StepContext) -> Finding:
    table = TableName.parse(step.table)
    column = column_name(step.column)

    def latest(conn: Connection) -> object:
        col, tbl = sql.quote_column(conn.dialect, column), sql.quote_table(conn.dialect, table)
        query = f"SELECT max({col}) FROM {tbl}"
        return conn.execute(sa.text(query)).scalar()

    found = await sql.read_only(step.url, latest, ctx.timeout, names=(*table.parts, str(table), column))
    last = sql.as_utc(found, f"the value in column {column}")
    asset = Asset(kind=AssetKind.TABLE, name=str(table))
    sla = format_duration(step.max_age)
    if last is None:
        return Finding(outcome="anomalous", detail=f"{table} has no rows: max({column}) is null", asset=asset)
    age = (ctx.now - last).total_seconds()
    when = f"{last:%Y-%m-%d %H:%M} UTC"
    metrics = {"age_seconds": age, "max_age_seconds": step.max_age}
    if age > step.max_age:
        detail = f"{table} is stale: last {column} {format_duration(age)} ago ({when}), SLA {sla}"
        return Finding(outcome="anomalous", detail=detail, asset=asset, metrics=metrics)
    detail = f"{table} is fresh: last {column} {format_duration(max(age, 0))} ago ({when}), SLA {sla}"
    return Finding(outcome="ok", detail=detail, asset=asset, metrics=metrics)
