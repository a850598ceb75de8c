"""Issue 7 end to end: an incident opens, the DataOps freshness playbook finds the stale PostgreSQL table,
the checklist shows it, the proposal names DataOps; the warehouse secret leaks nowhere."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import make_url

from bot.domain.models import EvidenceStatus, Side
from slack_sandbox import SlackSandbox
from tests.scenarios.steps import open_incident
from tests.support.bot import BotUnderTest, eventually, flush, make_team, team_config

PLAYBOOK = """\
name: e2e-freshness
side: dataops
description: Freshness of the incident's table in the test warehouse.
triggers:
  asset_kinds: [table]
params:
  warehouse: "${E2E_WAREHOUSE_URL}"
  table: "{asset.table}"
steps:
  - id: freshness
    kind: sql_freshness
    item: table_freshness
    url: "{warehouse}"
    table: "{table}"
    column: updated_at
    max_age: 2h
    timeout: 20s
"""


@pytest.fixture
def stale_table(pg_url: str) -> Iterator[str]:
    """A table whose newest row is 10 h old, in a schema of its own, dropped afterwards."""
    schema = f"e2e_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"CREATE TABLE {schema}.user_daily (user_id int, updated_at timestamptz)"))
        conn.execute(
            sa.text(f"INSERT INTO {schema}.user_daily VALUES (1, :at)"),
            {"at": datetime.now(UTC) - timedelta(hours=10)},
        )
    yield f"{schema}.user_daily"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
async def pb_bot(
    sb: SlackSandbox, redis_url: str, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[BotUnderTest, str]]:
    """A bot with the e2e playbook; the warehouse URL carries a password only the environment knows."""
    await flush(redis_url)
    password = "pw-" + secrets.token_hex(12)
    url = make_url(pg_url).set(password=password).render_as_string(hide_password=False)
    monkeypatch.setenv("E2E_WAREHOUSE_URL", url)
    (tmp_path / "e2e-freshness.yaml").write_text(PLAYBOOK)
    team = make_team(sb)
    config = team_config(team, playbooks={"folders": [str(tmp_path)], "builtin": False})
    under_test = BotUnderTest(sb=sb, team=team, config=config, redis_url=redis_url)
    await under_test.start()
    try:
        yield under_test, password
    finally:
        await under_test.stop()


async def redis_dump(redis_url: str) -> str:
    client = aioredis.Redis.from_url(redis_url)
    parts = []
    async for key in client.scan_iter(count=500):
        kind = (await client.type(key)).decode()
        if kind == "string":
            parts.append(str(await client.get(key)))
        elif kind == "hash":
            parts.append(str(await client.hgetall(key)))
        elif kind == "list":
            parts.append(str(await client.lrange(key, 0, -1)))
    await client.aclose()
    return "\n".join(parts)


class TestFreshnessPlaybook:
    async def test_stale_table_found_on_open_and_proposal_names_dataops(
        self, pb_bot: tuple[BotUnderTest, str], stale_table: str, redis_url: str
    ) -> None:
        """The playbook starts as the incident opens, marks freshness anomalous, and the proposal names DataOps."""
        bot, password = pb_bot
        with structlog.testing.capture_logs() as logs:
            user = bot.team.commander
            await bot.sb.slash_command(user, "/incident", "open")
            await eventually(lambda: bot.sb.open_views(user), what="open form")
            await bot.sb.submit_view(
                user, values={"Title": "Scores collapsed", "Severity": "SEV2", "Affected table": stale_table}
            )
            incident = await eventually(lambda: _opened(bot), what="incident opened")

            async def found() -> bool:
                item = (await bot.bot.store.get(incident.id)).evidence["dataops.table_freshness"]
                return item.status is EvidenceStatus.ANOMALOUS

            await eventually(found, timeout=30, what="freshness anomalous")
            channel = incident.channel_id or ""
            checklist = lambda: str(bot.sb.message(channel, incident.checklist_ts[Side.DATAOPS]).blocks)  # noqa: E731
            await eventually(
                lambda: "Anomalous" in checklist() and "e2e-freshness" in checklist(), what="checklist"
            )
            card = lambda: str(bot.sb.message(channel, incident.card_ts or "").blocks)  # noqa: E731
            await eventually(lambda: "Proposed owner:* DataOps" in card(), what="proposal")
            progress = await eventually(
                lambda: [m for m in bot.messages(channel) if "Playbook e2e-freshness" in m.text],
                what="progress",
            )
            assert "finished" in str(progress[-1].blocks)
            decided = await bot.bot.store.get(incident.id)
            item = decided.evidence["dataops.table_freshness"]
            assert item.source is not None
            assert item.source.playbook == "e2e-freshness"
            assert stale_table.split(".")[1] in item.detail

            await bot.sb.slash_command(bot.team.data[0], "/incident", "run e2e-freshness", channel=channel)
            await eventually(
                lambda: len([m for m in bot.messages(channel) if "Playbook e2e-freshness" in m.text]) == 2,
                what="second run by hand",
            )
            await bot.bot.playbooks.settle()

        everything_slack_saw = "\n".join(
            [str(c.args) + str(c.response) for c in bot.sb.calls()]
            + [m.text + str(m.blocks) for ch in bot.sb.channels() for m in bot.sb.messages(ch.id)]
        )
        assert password not in everything_slack_saw
        assert password not in str(logs)
        assert password not in await redis_dump(redis_url)

    async def test_unknown_playbook_is_an_ephemeral_error(self, pb_bot: tuple[BotUnderTest, str]) -> None:
        """`/incident run nope` says which playbooks exist, and runs nothing."""
        bot, _ = pb_bot
        incident = await open_incident(bot)
        user = bot.team.data[0]
        await bot.sb.slash_command(user, "/incident", "run nope", channel=incident.channel_id)
        told = await eventually(
            lambda: [e for e in bot.sb.ephemerals(user) if "There is no playbook `nope`" in e.text],
            what="error",
        )
        assert "e2e-freshness" in told[-1].text


async def _opened(bot: BotUnderTest) -> object:
    incidents = [i for i in await bot.incidents() if i.opening.done]
    return incidents[0] if incidents else None
