"""The snapshot store contract, run against Redis and the in-memory store alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.store import keys
from bot.store.snapshots import RedisSnapshotStore
from playbooks.snapshots import InMemorySnapshotStore, SnapshotStore, observe

T0 = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest) -> SnapshotStore:
    if request.param == "redis":
        return RedisSnapshotStore(request.getfixturevalue("redis_client"))
    return InMemorySnapshotStore()


def _word(change: object) -> str:
    return str(change)


class TestSnapshotStore:
    async def test_missing_is_none(self, store: SnapshotStore) -> None:
        assert await store.get("schema", "nope") is None

    async def test_round_trip_and_kinds_apart(self, store: SnapshotStore) -> None:
        """A value comes back as stored; the same name under another kind is another document."""
        await store.put("schema", "db:orders", {"values": {"id": "integer"}})
        await store.put("model_aliases", "db:orders", {"values": {"champion": "2"}})
        assert await store.get("schema", "db:orders") == {"values": {"id": "integer"}}
        assert await store.get("model_aliases", "db:orders") == {"values": {"champion": "2"}}

    async def test_observe_sequence(self, store: SnapshotStore) -> None:
        """baseline, unchanged, changed (worded), still anomalous in the window, then unchanged."""
        seen = await observe(store, "schema", "t", {"a": "int"}, T0, 3600, _word)
        assert seen.state == "baseline"
        assert (await observe(store, "schema", "t", {"a": "int"}, T0, 3600, _word)).state == "unchanged"
        changed = await observe(store, "schema", "t", {"a": "bigint"}, T0 + timedelta(minutes=1), 3600, _word)
        assert changed.state == "changed"
        assert changed.anomalous
        assert changed.changes == ["Change(name='a', before='int', after='bigint')"]
        later = await observe(store, "schema", "t", {"a": "bigint"}, T0 + timedelta(minutes=30), 3600, _word)
        assert later.state == "recently_changed"
        assert later.changed_at == T0 + timedelta(minutes=1)
        settled = await observe(store, "schema", "t", {"a": "bigint"}, T0 + timedelta(hours=3), 3600, _word)
        assert settled.state == "unchanged"
        assert not settled.anomalous


class TestRedisLayout:
    async def test_json_under_the_keys_of_keys_py(self, redis_client: Redis) -> None:
        """Values are JSON strings at keys.schema_snapshot / keys.model_aliases_snapshot, never pickles."""
        store = RedisSnapshotStore(redis_client)
        await store.put("schema", "n1", {"values": {"id": "integer"}})
        await store.put("model_aliases", "m1", {"values": {"champion": "1"}})
        assert json.loads(await redis_client.get(keys.schema_snapshot("n1"))) == {"values": {"id": "integer"}}
        assert json.loads(await redis_client.get(keys.model_aliases_snapshot("m1"))) == {
            "values": {"champion": "1"}
        }

    async def test_unknown_kind_refused(self, redis_client: Redis) -> None:
        with pytest.raises(ValueError, match="unknown snapshot kind"):
            await RedisSnapshotStore(redis_client).get("tables", "x")
