"""Issue 14, who may act: driven through the Slack stand-in as people would, against the permission table.

Every refusal is an ephemeral naming who may; nothing changes. Private incidents stay hidden from non-members.
A playbook never overwrites what a person set: its finding is a note, a differing one a visible conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain.incident import Incident
from bot.domain.models import EvidenceStatus, IncidentState, Side
from slack_sandbox import SlackSandbox
from tests.scenarios.steps import confirm, open_incident, set_evidence
from tests.support.bot import BotUnderTest, eventually, flush, make_team, team_config

FRESHNESS = "dataops.table_freshness"
BY_HAND = "anomalous, checked by hand"


def decision_posted(bot: BotUnderTest, channel: str) -> bool:
    return any("ownership decided" in m.text for m in bot.messages(channel))


async def decided_incident(bot: BotUnderTest) -> Incident:
    """Both sides confirmed agreeing verdicts: the decision is posted."""
    incident = await open_incident(bot)
    ml, data = bot.team.ml[0], bot.team.data[0]
    await confirm(bot, ml, incident, Side.MLOPS, "Our asset failed", ("Model", "churn"), ml)
    await confirm(bot, data, incident, Side.DATAOPS, "Our side is clear")
    await eventually(lambda: decision_posted(bot, incident.channel_id or ""), what="decision")
    return await bot.bot.store.get(incident.id)


async def refusal(bot: BotUnderTest, user: str, words: str) -> str:
    """The ephemeral the person got that contains `words` (waits for the work after the ack)."""
    seen = await eventually(
        lambda: [e.text for e in bot.sb.ephemerals(user) if words in e.text], what=f"ephemeral {words!r}"
    )
    return str(seen[-1])


async def command(bot: BotUnderTest, user: str, text: str, channel: str) -> None:
    ack = await bot.sb.slash_command(user, "/incident", text, channel=channel)
    assert ack.ok, ack


class TestCloseAndReopen:
    async def test_an_outsider_can_neither_reopen_nor_close(self, bot: BotUnderTest) -> None:
        """Someone on neither side, in the channel, is refused reopen and close; decision and verdicts stand."""
        incident = await decided_incident(bot)
        channel, outsider = incident.channel_id or "", bot.team.outsider
        await bot.sb.join(outsider, channel)

        await command(bot, outsider, "reopen x", channel)
        said = await refusal(bot, outsider, "can reopen")
        assert said.endswith(
            f"Only MLOps or DataOps leads can reopen {incident.id} once it is decided (that withdraws the decision)."
        )
        await command(bot, outsider, "close x", channel)
        said = await refusal(bot, outsider, "can close")
        assert f"Only MLOps or DataOps responders and leads can close {incident.id}." in said

        after = await bot.bot.store.get(incident.id)
        assert after.state is IncidentState.DECIDED
        assert after.decision is not None
        assert set(after.verdicts) == {Side.MLOPS, Side.DATAOPS}
        timeline = await bot.bot.store.timeline(incident.id)
        assert not [e for e in timeline if e.kind in ("reopened", "closed")]
        assert not [m for m in bot.messages(channel) if "reopened by" in m.text or "closed by" in m.text]

    async def test_a_responder_closes(self, bot: BotUnderTest) -> None:
        incident = await decided_incident(bot)
        channel = incident.channel_id or ""
        await command(bot, bot.team.data_group[0], "close backfilled the table", channel)

        async def closed() -> bool:
            return (await bot.bot.store.get(incident.id)).state is IncidentState.CLOSED

        await eventually(closed, what="closed")

    async def test_reopening_a_decision_needs_a_lead(self, bot: BotUnderTest) -> None:
        """A responder is refused (naming the leads); a lead withdraws the decision."""
        incident = await decided_incident(bot)
        channel, responder = incident.channel_id or "", bot.team.ml[0]
        await command(bot, responder, "reopen wrong model", channel)
        said = await refusal(bot, responder, "can reopen")
        assert "Only MLOps or DataOps leads can reopen" in said
        assert (await bot.bot.store.get(incident.id)).state is IncidentState.DECIDED

        await command(bot, bot.team.data_lead, "reopen wrong model", channel)

        async def reopened() -> bool:
            now = await bot.bot.store.get(incident.id)
            return now.state is IncidentState.INVESTIGATING and now.decision is None and not now.verdicts

        await eventually(reopened, what="reopened by the lead")


# --- Playbooks and evidence precedence ------------------------------------------------------------------------


@pytest.fixture
def warehouse(pg_url: str) -> Iterator[str]:
    """A schema of its own with a table updated a minute ago (fresh), dropped afterwards."""
    schema = f"sec_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"CREATE TABLE {schema}.user_daily (user_id int, updated_at timestamptz)"))
        conn.execute(sa.text(f"INSERT INTO {schema}.user_daily VALUES (1, :at)"), {"at": datetime.now(UTC)})
    yield schema
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
async def pb_bot(
    sb: SlackSandbox, redis_url: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotUnderTest]:
    """The built-in playbooks with a real warehouse; nothing runs on open, only by hand."""
    await flush(redis_url)
    monkeypatch.setenv("WAREHOUSE_URL", pg_url)
    team = make_team(sb)
    config = team_config(team, playbooks={"run_on_open": False})
    under_test = BotUnderTest(sb=sb, team=team, config=config, redis_url=redis_url)
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


async def open_by_form(bot: BotUnderTest, title: str, **values: Any) -> Incident:
    user = bot.team.commander
    await bot.sb.slash_command(user, "/incident", "open")
    await eventually(lambda: bot.sb.open_views(user), what="open form")
    ack = await bot.sb.submit_view(user, values={"Title": title, "Severity": "SEV2", **values})
    assert ack.ok, ack

    async def opened() -> Incident | None:
        return next((i for i in await bot.incidents() if i.title == title and i.opening.done), None)

    found: Incident = await eventually(opened, what="incident opened")
    return found


def checklist_text(bot: BotUnderTest, incident: Incident) -> str:
    return str(bot.sb.message(incident.channel_id or "", incident.checklist_ts[Side.DATAOPS]).blocks)


async def run_finished(bot: BotUnderTest, incident: Incident, runs: int = 1) -> None:
    def finished() -> bool:
        done = [m for m in bot.messages(incident.channel_id or "") if "Playbook dataops-freshness" in m.text]
        return len(done) >= runs and "finished" in str(done[-1].blocks)

    await eventually(finished, timeout=30, what="playbook run finished")
    await bot.bot.playbooks.settle()


class TestPlaybooks:
    async def test_an_outsider_cannot_run_a_sides_playbook(
        self, pb_bot: BotUnderTest, warehouse: str
    ) -> None:
        """The outsider's click on "Run dataops-freshness" is refused; the responder's entry stays as set."""
        bot = pb_bot
        incident = await open_by_form(bot, "Scores collapsed", **{"Affected table": f"{warehouse}.missing"})
        dana, outsider = bot.team.data[0], bot.team.outsider
        await set_evidence(bot, dana, incident, FRESHNESS, "Anomalous", BY_HAND)
        await bot.sb.join(outsider, incident.channel_id or "")

        await bot.sb.click(outsider, "Run dataops-freshness", channel=incident.channel_id)
        said = await refusal(bot, outsider, "can run")
        assert f"Only DataOps responders and leads can run DataOps playbooks on {incident.id}." in said
        await bot.bot.playbooks.settle()
        item = (await bot.bot.store.get(incident.id)).evidence[FRESHNESS]
        assert (item.status, item.detail, item.notes) == (EvidenceStatus.ANOMALOUS, BY_HAND, [])
        assert not [
            m for m in bot.messages(incident.channel_id or "") if "Playbook dataops-freshness" in m.text
        ]

    async def test_a_failed_run_only_adds_a_note_to_a_persons_entry(
        self, pb_bot: BotUnderTest, warehouse: str
    ) -> None:
        """A run that could not check (no such table) leaves the person's "anomalous" and adds a note."""
        bot = pb_bot
        incident = await open_by_form(bot, "Scores collapsed", **{"Affected table": f"{warehouse}.missing"})
        dana = bot.team.data[0]
        await set_evidence(bot, dana, incident, FRESHNESS, "Anomalous", BY_HAND)
        await bot.sb.click(dana, "Run dataops-freshness", channel=incident.channel_id)
        await run_finished(bot, incident)

        item = (await bot.bot.store.get(incident.id)).evidence[FRESHNESS]
        assert (item.status, item.detail) == (EvidenceStatus.ANOMALOUS, BY_HAND)
        assert item.source is not None
        assert item.source.user_id == dana
        [note] = item.notes
        assert note.status is EvidenceStatus.UNKNOWN
        assert note.detail.startswith("could not check")
        assert not note.conflict
        await eventually(
            lambda: "playbook dataops-freshness could not check" in checklist_text(bot, incident),
            what="note shown",
        )

    async def test_a_differing_finding_is_a_visible_conflict_the_responder_settles(
        self, pb_bot: BotUnderTest, warehouse: str
    ) -> None:
        """The person's "anomalous" stays; the playbook's "OK" shows as differing; setting it again settles it."""
        bot = pb_bot
        incident = await open_by_form(
            bot, "Scores collapsed", **{"Affected table": f"{warehouse}.user_daily"}
        )
        dana = bot.team.data[0]
        await set_evidence(bot, dana, incident, FRESHNESS, "Anomalous", BY_HAND)
        await bot.sb.click(dana, "Run dataops-freshness", channel=incident.channel_id)
        await run_finished(bot, incident)

        item = (await bot.bot.store.get(incident.id)).evidence[FRESHNESS]
        assert (item.status, item.detail) == (EvidenceStatus.ANOMALOUS, BY_HAND)
        [note] = item.notes
        assert note.status is EvidenceStatus.OK
        assert note.conflict
        assert note.source.playbook == "dataops-freshness"
        await eventually(
            lambda: (
                "playbook dataops-freshness found: OK" in checklist_text(bot, incident)
                and f"(differs from <@{dana}>'s entry)" in checklist_text(bot, incident)
            ),
            what="conflict on the checklist",
        )
        timeline = await bot.bot.store.timeline(incident.id)
        assert any(e.kind == "evidence_note" and e.data.get("precedence") == "conflict" for e in timeline)

        await set_evidence(bot, dana, incident, FRESHNESS, "OK", "the playbook is right")
        settled = (await bot.bot.store.get(incident.id)).evidence[FRESHNESS]
        assert settled.notes == []
        await eventually(lambda: "differs from" not in checklist_text(bot, incident), what="conflict settled")


# --- Private incidents ---------------------------------------------------------------------------------------


class TestPrivateIncidents:
    async def private_incident(self, bot: BotUnderTest) -> Incident:
        incident = await open_by_form(
            bot,
            "Secret churn model breach",
            **{"Channel": "Private", "Affected table": "hr.salaries", "Description": "confidential details"},
        )
        assert incident.private
        assert bot.sb.channel(incident.channel_id or "").is_private
        return incident

    async def test_status_and_list_hide_it_from_non_members(self, bot: BotUnderTest) -> None:
        incident = await self.private_incident(bot)
        outsider = bot.team.outsider
        assert outsider not in bot.sb.channel(incident.channel_id or "").members
        general = bot.sb.add_channel("general", members=[outsider, bot.sb.bot_user_id]).id

        await command(bot, outsider, f"status {incident.id}", general)
        said = await refusal(bot, outsider, "is private")
        assert said.endswith(f"{incident.id} is private: only members of its channel can see it.")
        await command(bot, outsider, "list", general)
        listing = await eventually(
            lambda: [e for e in bot.sb.ephemerals(outsider) if "open incident(s)" in e.text], what="list"
        )
        for shown in bot.sb.ephemerals(outsider):
            text = shown.text + str(shown.blocks)
            for secret in ("Secret churn model breach", "hr.salaries", "confidential details"):
                assert secret not in text
        assert listing[-1].text.startswith("0 open incident(s)")

    async def test_members_see_it(self, bot: BotUnderTest) -> None:
        incident = await self.private_incident(bot)
        member = bot.team.data[0]
        assert member in bot.sb.channel(incident.channel_id or "").members
        general = bot.sb.add_channel("general", members=[member, bot.sb.bot_user_id]).id

        await command(bot, member, f"status {incident.id}", general)
        shown = await eventually(
            lambda: [e for e in bot.sb.ephemerals(member) if e.blocks and incident.id in e.text],
            what="status",
        )
        assert "Secret churn model breach" in str(shown[-1].blocks)
        await command(bot, member, "list", general)
        listing = await eventually(
            lambda: [e for e in bot.sb.ephemerals(member) if "open incident(s)" in e.text], what="list"
        )
        assert "Secret churn model breach" in str(listing[-1].blocks)

    async def test_a_public_incident_is_listed_for_anyone(self, bot: BotUnderTest) -> None:
        incident = await open_incident(bot, "open Public churn issue sev3")
        outsider = bot.team.outsider
        general = bot.sb.add_channel("general", members=[outsider, bot.sb.bot_user_id]).id
        await command(bot, outsider, "list", general)
        listing = await eventually(
            lambda: [e for e in bot.sb.ephemerals(outsider) if "open incident(s)" in e.text], what="list"
        )
        assert incident.id in str(listing[-1].blocks)
