"""Read-only SQL for playbook steps: any SQLAlchemy URL, a statement timeout, blocking work in a thread.

A database's error names the values it could not read (`invalid input syntax for type timestamp: "..."`):
those are data, and never reach a message. Quoted text in an error is kept only when it is a name the step
chose (its table, columns) or the URL's host, user or database; anything else becomes `<value>`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import URL, Connection, Dialect
from sqlalchemy.exc import (
    ArgumentError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.pool import NullPool

from playbooks.errors import StepError, TransientStepError
from playbooks.identifiers import TableName
from playbooks.redaction import describe_values

T = TypeVar("T")


async def read_only(
    url: SecretStr, work: Callable[[Connection], T], statement_timeout: float, names: Collection[str] = ()
) -> T:
    """Run `work` on a read-only connection in a worker thread, so the event loop never blocks.

    `names` are the tables and columns the work reads: an error may quote them (and no other quoted text).
    """
    return await asyncio.to_thread(_run, url.get_secret_value(), work, statement_timeout, names)


def _run(url_text: str, work: Callable[[Connection], T], timeout: float, names: Collection[str] = ()) -> T:
    try:
        url = sa.make_url(url_text)
    except ArgumentError:
        raise StepError("the database URL is not a valid SQLAlchemy URL") from None
    try:
        # NullPool: a connection per run, so no pooled handle outlives the step (DuckDB locks its file).
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=_connect_args(url, timeout))
    except ArgumentError as exc:
        raise StepError(f"cannot use database URL scheme {url.drivername!r}: {exc}") from None
    interrupted = threading.Event()
    known = {*names, *(str(p) for p in (url.host, url.username, url.database) if p)}
    try:
        with engine.connect() as conn:
            _enter_read_only(conn, timeout)
            with _interrupt_after(conn, timeout, interrupted):
                return work(conn)
    except (OperationalError, InterfaceError, DisconnectionError) as exc:
        raise TransientStepError(_message(exc, known)) from None
    except SQLAlchemyError as exc:
        if interrupted.is_set():
            raise TransientStepError(f"statement interrupted after the {timeout:g} s timeout") from None
        raise StepError(_message(exc, known)) from None
    finally:
        engine.dispose()


def _connect_args(url: URL, timeout: float) -> dict[str, Any]:
    backend = url.get_backend_name()
    if backend == "postgresql":
        ms = max(1, int(timeout * 1000))
        return {
            "options": f"-c default_transaction_read_only=on -c statement_timeout={ms} -c TimeZone=UTC",
            "connect_timeout": max(2, min(int(timeout), 30)),
        }
    if backend == "duckdb":
        return {"read_only": True}
    return {}


def _enter_read_only(conn: Connection, timeout: float) -> None:
    backend = conn.dialect.name
    if backend == "duckdb":
        conn.execute(sa.text("SET TimeZone = 'UTC'"))
        return
    if backend == "sqlite":
        conn.execute(sa.text("PRAGMA query_only = ON"))
        return
    # PostgreSQL already defaults to read-only through its options; saying it again costs nothing. Other
    # databases get the SQL-standard statement and are refused when they do not accept it.
    try:
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
    except SQLAlchemyError:
        raise StepError(f"{backend}: could not open a read-only transaction; playbooks only read") from None


@contextmanager
def _interrupt_after(conn: Connection, timeout: float, interrupted: threading.Event) -> Iterator[None]:
    # DuckDB has no statement timeout: interrupt the query from a timer instead.
    if conn.dialect.name != "duckdb":
        yield
        return
    raw = conn.connection.dbapi_connection

    def interrupt() -> None:
        interrupted.set()
        getattr(raw, "interrupt", lambda: None)()

    timer = threading.Timer(timeout, interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _message(exc: SQLAlchemyError, known: Collection[str] = ()) -> str:
    """The driver's first line, quoted values replaced; not cut here (the runner redacts, then cuts)."""
    orig = getattr(exc, "orig", None)
    source: BaseException = orig if isinstance(orig, BaseException) else exc
    lines = str(source).strip().splitlines() or [""]
    return f"{type(source).__name__}: {describe_values(lines[0], known)}"


def quote_table(dialect: Dialect, table: TableName) -> str:
    return ".".join(dialect.identifier_preparer.quote_identifier(p) for p in table.parts)


def quote_column(dialect: Dialect, column: str) -> str:
    return dialect.identifier_preparer.quote_identifier(column)


def current_schema(conn: Connection, table: TableName) -> str:
    if table.schema is not None:
        return table.schema
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
    return str(schema)


def as_utc(value: object, what: str = "the value") -> datetime | None:
    """A timestamp read from a database, as an aware UTC datetime; naive values are taken to be UTC.

    The error describes the value (`the value in column x is not a timestamp (text)`), never quotes it.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise StepError(f"{what} is not a timestamp (text)") from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    raise StepError(f"{what} is not a timestamp ({type(value).__name__})")


def source_name(url: SecretStr) -> str:
    """The URL with its password hidden: names a database in snapshot keys without carrying the secret."""
    try:
        return sa.make_url(url.get_secret_value()).render_as_string(hide_password=True)
    except ArgumentError:
        raise StepError("the database URL is not a valid SQLAlchemy URL") from None
