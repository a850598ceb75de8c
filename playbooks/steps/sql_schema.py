"""Step sql_schema: a table's columns and types vs the last snapshot kept in the SnapshotStore."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.domain.models import Asset, AssetKind
from playbooks import sql
from playbooks.context import StepContext
from playbooks.durations import format_duration
from playbooks.errors import StepError
from playbooks.identifiers import TableName
from playbooks.results import Finding
from playbooks.schema import SqlSchemaStep
from playbooks.snapshots import Change, observe, snapshot_name

_COLUMNS = sa.text(
    "SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale "
    "FROM information_schema.columns WHERE table_schema = :schema AND table_name = :table "
    "ORDER BY ordinal_position"
)


def _type_name(data_type: str, length: object, precision: object, scale: object) -> str:
    # PostgreSQL says `character varying` and `numeric` and puts the sizes in their own columns.
    if length is not None and "(" not in data_type:
        return f"{data_type}({length})"
    if data_type.lower() == "numeric" and precision is not None:
        return f"{data_type}({precision},{scale or 0})"
    return data_type


def read_columns(conn: Connection, table: TableName) -> dict[str, str]:
    """Column name -> type as the database reports it; empty when the table does not exist."""
    if conn.dialect.name == "sqlite":
        inspector = sa.inspect(conn)
        if not inspector.has_table(table.name, schema=table.schema):
            return {}
        return {c["name"]: str(c["type"]) for c in inspector.get_columns(table.name, schema=table.schema)}
    params = {"schema": sql.current_schema(conn, table), "table": table.name}
    return {row[0]: _type_name(*row[1:]) for row in conn.execute(_COLUMNS, params)}


def _word(change: Change) -> str:
    if change.before is None:
        return f"column {change.name} added ({change.after})"
    if change.after is None:
        return f"column {change.name} dropped (was {change.before})"
    return f"column {change.name} retyped {change.before} -> {change.after}"


async def execute(step: SqlSchemaStep, ctx: StepContext) -> Finding:
    table = TableName.parse(step.table)
    columns = await sql.read_only(
        step.url, lambda conn: read_columns(conn, table), ctx.timeout, names=(*table.parts, str(table))
    )
    # Compared with a snapshot that is stored scrubbed: scrub them the same way first.
    columns = {ctx.redactor(name): ctx.redactor(kind) for name, kind in columns.items()}
    name = snapshot_name(sql.source_name(step.url), str(table))
    if not columns and await ctx.snapshots.get("schema", name) is None:
        raise StepError(f"table {table} not found")
    seen = await observe(ctx.snapshots, "schema", name, columns, ctx.now, step.change_window, _word)
    asset = Asset(kind=AssetKind.TABLE, name=str(table))
    metrics = {"columns": float(len(columns))}
    if seen.state == "baseline":
        detail = f"{table}: {len(columns)} columns, baseline recorded"
        return Finding(outcome="ok", detail=detail, asset=asset, metrics=metrics)
    if not columns:
        return Finding(outcome="anomalous", detail=f"{table} no longer exists", asset=asset, metrics=metrics)
    if seen.anomalous and seen.changed_at is not None:
        ago = format_duration((ctx.now - seen.changed_at).total_seconds())
        detail = f"{table} schema changed (first seen {ago} ago): {'; '.join(seen.changes)}"
        return Finding(outcome="anomalous", detail=detail, asset=asset, metrics=metrics)
    detail = (
        f"{table}: {len(columns)} columns, unchanged since the snapshot of {seen.taken_at:%Y-%m-%d %H:%M} UTC"
    )
    return Finding(outcome="ok", detail=detail, asset=asset, metrics=metrics)
