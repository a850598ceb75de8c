"""What playbook steps remember between runs (schema and alias snapshots): the store interface."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

SnapshotKind = Literal["schema", "model_aliases"]


class SnapshotStore(Protocol):
    """Named JSON documents, one namespace per kind; the Redis implementation is bot.store.snapshots."""

    async def get(self, kind: SnapshotKind, name: str) -> dict[str, Any] | None: ...

    async def put(self, kind: SnapshotKind, name: str, value: dict[str, Any]) -> None: ...


class InMemorySnapshotStore:
    """A SnapshotStore in a dict: for dry runs without Redis and for tests of code that needs one."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], dict[str, Any]] = {}

    async def get(self, kind: SnapshotKind, name: str) -> dict[str, Any] | None:
        return self._values.get((kind, name))

    async def put(self, kind: SnapshotKind, name: str, value: dict[str, Any]) -> None:
        self._values[(kind, name)] = dict(value)


def snapshot_name(source: str, thing: str) -> str:
    """A stable name for `thing` (a table, a model) at `source` (a URL without its password)."""
    return f"{hashlib.sha256(source.encode()).hexdigest()[:12]}:{thing}"


class MappingSnapshot(BaseModel):
    """A name -> value mapping as last seen (columns -> types, aliases -> versions) and its last change."""

    values: dict[str, str]
    taken_at: datetime
    changed_at: datetime | None = None
    changes: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Change:
    name: str
    before: str | None  # None: added
    after: str | None  # None: removed


@dataclass(frozen=True)
class Observation:
    """How a mapping compares with its snapshot; `changes` are worded, the most recent change first."""

    state: Literal["baseline", "changed", "recently_changed", "unchanged"]
    changes: list[str]
    taken_at: datetime
    changed_at: datetime | None

    @property
    def anomalous(self) -> bool:
        return self.state in ("changed", "recently_changed")


def diff(before: dict[str, str], after: dict[str, str]) -> list[Change]:
    names = [*before, *(k for k in after if k not in before)]
    return [Change(n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)]


async def observe(
    store: SnapshotStore,
    kind: SnapshotKind,
    name: str,
    current: dict[str, str],
    now: datetime,
    change_window: float,
    word: Callable[[Change], str],
) -> Observation:
    """Compare `current` with the snapshot and record it; a change stays anomalous for `change_window` s.

    The snapshot moves to the new values when a change is seen, so the next change is told apart, and it
    keeps the words and time of the last change so that later runs in the window still report it.
    """
    raw = await store.get(kind, name)
    snapshot = MappingSnapshot.model_validate(raw) if raw is not None else None
    if snapshot is None:
        await store.put(kind, name, MappingSnapshot(values=current, taken_at=now).model_dump(mode="json"))
        return Observation("baseline", [], now, None)
    changes = diff(snapshot.values, current)
    if changes:
        words = [word(c) for c in changes]
        updated = MappingSnapshot(values=current, taken_at=now, changed_at=now, changes=words)
        await store.put(kind, name, updated.model_dump(mode="json"))
        return Observation("changed", words, now, now)
    if snapshot.changed_at is not None and (now - snapshot.changed_at).total_seconds() <= change_window:
        return Observation("recently_changed", snapshot.changes, snapshot.taken_at, snapshot.changed_at)
    return Observation("unchanged", [], snapshot.taken_at, snapshot.changed_at)


class RedactingSnapshotStore:
    """A SnapshotStore that scrubs every string it stores (names and values) with the run's redactor.

    Snapshot values come from the sources (column names, alias names): an answer that echoes a credential
    must not reach Redis. Scrubbing is the same on every run, so comparisons with the last snapshot hold.
    """

    def __init__(self, store: SnapshotStore, scrub: Callable[[Any], Any]) -> None:
        self._store = store
        self._scrub = scrub

    async def get(self, kind: SnapshotKind, name: str) -> dict[str, Any] | None:
        return await self._store.get(kind, str(self._scrub(name)))

    async def put(self, kind: SnapshotKind, name: str, value: dict[str, Any]) -> None:
        await self._store.put(kind, str(self._scrub(name)), dict(self._scrub(value)))
