"""The Redis store against a plain-Python model: random sequences of creates, updates (some stale), mutations
and touches leave the store and the model agreeing, including the activity index."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from bot.domain.errors import Conflict
from bot.domain.incident import Incident, touch
from bot.domain.models import IncidentState, Severity, TimelineEntry
from bot.store.redis_store import RedisIncidentStore

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _url() -> str:
    return os.environ["HANDOFF_TEST_REDIS_URL"].rsplit("/", 1)[0] + "/11"


class StoreAgainstModel(RuleBasedStateMachine):
    """Each rule acts on Redis and on a dict; the invariants compare them."""

    ids = Bundle("ids")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.client = aioredis.Redis.from_url(_url())
        self.run(self.client.flushdb())
        self.store = RedisIncidentStore(self.client)
        self.model: dict[str, Incident] = {}
        self.timelines: dict[str, list[str]] = {}
        self.count = 0

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.client.aclose())
        self.loop.close()

    @rule(target=ids, severity=st.sampled_from(list(Severity)), idle=st.integers(0, 600))
    def create(self, severity: Severity, idle: int) -> str:
        self.count += 1
        at = T0 - timedelta(minutes=idle)
        incident = Incident(
            id=f"INC-{self.count}",
            title="t",
            severity=severity,
            created_at=at,
            updated_at=at,
            last_activity_at=at,
        )
        stored, fresh = self.run(self.store.create(incident, [TimelineEntry(at=at, kind="opened", text="o")]))
        assert fresh
        self.model[stored.id] = stored
        self.timelines[stored.id] = ["o"]
        return stored.id

    @rule(incident_id=ids, title=st.text(min_size=1, max_size=20), stale=st.booleans())
    def update(self, incident_id: str, title: str, stale: bool) -> None:
        current = self.model[incident_id]
        base = current.model_copy(update={"version": current.version - 1}) if stale else current
        try:
            written = self.run(self.store.update(base.model_copy(update={"title": title})))
        except Conflict:
            assert stale, "a fresh update was refused"
            return
        assert not stale, "a stale update was accepted"
        self.model[incident_id] = written

    @rule(incident_id=ids, note=st.text(max_size=10))
    def mutate(self, incident_id: str, note: str) -> None:
        entry = TimelineEntry(at=T0, kind="note", text=note or "-")
        _, after = self.run(
            self.store.mutate(
                incident_id,
                lambda i: i.model_copy(update={"description": i.description + "x"}),
                lambda b, a: [entry],
            )
        )
        self.model[incident_id] = after
        self.timelines[incident_id].append(entry.text)

    @rule(incident_id=ids, minutes_ago=st.integers(0, 600))
    def touch_it(self, incident_id: str, minutes_ago: int) -> None:
        current = self.model[incident_id]
        self.model[incident_id] = self.run(
            self.store.update(touch(current, T0 - timedelta(minutes=minutes_ago)))
        )

    @rule(incident_id=ids)
    def close(self, incident_id: str) -> None:
        current = self.model[incident_id]
        self.model[incident_id] = self.run(
            self.store.update(current.model_copy(update={"state": IncidentState.CLOSED}))
        )

    @invariant()
    def documents_and_timelines_agree(self) -> None:
        for incident_id, expected in self.model.items():
            assert self.run(self.store.get(incident_id)) == expected
            assert [e.text for e in self.run(self.store.timeline(incident_id))] == self.timelines[incident_id]

    @invariant()
    def activity_index_agrees(self) -> None:
        for severity in Severity:
            idle = {i.id for i in self.run(self.store.stale(severity, timedelta(hours=2), T0))}
            expected = {
                i.id
                for i in self.model.values()
                if i.severity is severity and i.active and i.last_activity_at <= T0 - timedelta(hours=2)
            }
            assert idle == expected


TestStoreAgainstModel = StoreAgainstModel.TestCase
TestStoreAgainstModel.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
