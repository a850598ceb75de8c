"""Issue 14: hostile text through every way in reaches Slack only as text.

Hostile strings (`<!here>`, `<!channel>`, `<@U…>`, `<!subteam^…>`, `<https://x|y>`, stray `<`, `>`, `&`, newlines,
40 KB strings, bidirectional overrides) go in through the slash command, the open modal, an alert of each kind,
the evidence modal, the verdict modal (and the close and reopen notes after it) and a playbook finding. After
each example, everything the stand-in received (messages, updates, ephemerals, acks, views, topics) is parsed:
the only `<…>` tokens allowed are the ones the bot builds itself (`foreign_tokens`).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from bot.domain.incident import Incident
from slack_sandbox import SlackSandbox
from tests.support.alerts import am_alert, am_webhook, fixture_json
from tests.support.bot import BotUnderTest, flush, make_team, team_config

# --- The checker --------------------------------------------------------------------------------------------

TOKEN = re.compile(r"<([^<>]*)>")
BOT_DATE = re.compile(r"!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC")
RAW_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
TEXT_KEYS = {"text", "topic", "fallback", "pretext"}  # string fields Slack renders (text objects hold "text")
CALL_TEXT_KEYS = ("text", "topic")
CALL_BLOCK_KEYS = ("blocks", "view", "attachments")
OWN_URLS: frozenset[str] = frozenset()  # the bot links to nothing of its own today (no permalinks)


@dataclass
class Allowed:
    """The tokens the bot may build: mentions of its people, its incident channels, its own links, and links
    to the URLs typed into a link field (decoded), under the bot's own label `link`."""

    users: set[str]
    channels: set[str]
    urls: frozenset[str] = OWN_URLS
    typed_links: set[str] = field(default_factory=set)

    def permits(self, body: str) -> bool:
        if body.startswith("@"):
            return body[1:] in self.users
        if body.startswith("#"):
            return body[1:] in self.channels
        if body.startswith("!"):
            return BOT_DATE.fullmatch(body) is not None
        url, _, label = body.partition("|")
        if url in self.urls:
            return True
        typed = unquote(url.replace("&amp;", "&"))
        plain_url = re.fullmatch(r"https?://[^\s|]+", url) is not None
        return label == "link" and plain_url and typed in self.typed_links


def foreign_tokens(text: str, allowed: Allowed) -> list[str]:
    """Every `<…>` token of `text` the bot did not build, every stray `<` or `>`, and an unescaped `&`."""
    found = [m.group(0)[:120] for m in TOKEN.finditer(text) if not allowed.permits(m.group(1))]
    rest = TOKEN.sub("", text)
    found += [f"stray {c!r}" for c in "<>" if c in rest]
    if RAW_AMPERSAND.search(text):
        found.append("unescaped '&'")
    return found


def texts_in(value: Any) -> Iterator[str]:
    """The rendered strings of a Block Kit value, recursively (input values and ids are not rendered)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                if key in TEXT_KEYS:
                    yield item
            else:
                yield from texts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts_in(item)


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def received(sb: SlackSandbox) -> list[tuple[str, str]]:
    """(where, text) of everything the stand-in got: messages, ephemerals and acks, views, topics, and the
    arguments of every call (updates replaced since included)."""
    out: list[tuple[str, str]] = []
    ws = sb.ws
    with ws.lock:
        for channel, messages in ws.messages.items():
            for m in messages:
                if m.source != "system":  # Slack's own join and topic lines; the topic itself is below
                    where = f"message {channel}/{m.ts} ({m.source})"
                    out += [(where, t) for t in [m.text, *texts_in(m.blocks), *texts_in(m.attachments)]]
        for e in ws.ephemerals:
            out += [(f"ephemeral to {e.user} ({e.source})", t) for t in [e.text, *texts_in(e.blocks)]]
        for v in ws.views.values():
            out += [(f"view {v.id}", t) for t in texts_in(v.definition)]
        for c in ws.channels.values():
            out += [(f"topic of {c.name}", c.topic.value), (f"purpose of {c.name}", c.purpose.value)]
        for call in ws.calls:
            where = f"{call.method} #{call.seq}"
            out += [(where, str(call.args[k])) for k in CALL_TEXT_KEYS if isinstance(call.args.get(k), str)]
            for key in CALL_BLOCK_KEYS:
                out += [(where, t) for t in texts_in(_decoded(call.args.get(key)))]
    return out


def assert_clean(world: World) -> None:
    allowed = Allowed(
        users=world.people(),
        channels={c.id for c in world.bot.sb.channels() if c.name.startswith("inc-")},
        typed_links=world.typed_links,
    )
    problems = [
        (where, bad, text[:300])
        for where, text in received(world.bot.sb)
        for bad in foreign_tokens(text, allowed)
    ]
    assert not problems, "\n".join(f"{where}: {bad} in {text!r}" for where, bad, text in problems[:10])


# --- Hostile text ---------------------------------------------------------------------------------------

OUTSIDER, GROUP, TRIAGE = "OUTSIDER_ID", "GROUP_ID", "TRIAGE_ID"  # real ids of the workspace, put in later
FOREIGN = (
    "<!here>",
    "<!channel>",
    "<!everyone>",
    "<!here|here>",
    "<!subteam^S0HOSTILE|@oncall>",
    f"<!subteam^{GROUP}>",
    "<@U0HOSTILE>",
    f"<@{OUTSIDER}>",
    f"<@{OUTSIDER}|boss>",
    "<#C0HOSTILE|general>",
    f"<#{TRIAGE}>",
    "<https://evil.example|click here>",
    "<https://evil.example>",
    "<mailto:a@evil.example|mail>",
    "<javascript:alert(1)|open>",
    "<!date^1^{date}|x>",
)
EDGES = (
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;!here&gt;",
    "|",
    "\n",
    "\r\n",
    "\u202e",
    "\u2066",
    "\u200f",
    "*",
    "`",
    "```",
    "@here",
    "https://ok.example/a>x <!channel>",
)
_piece = st.one_of(st.sampled_from(FOREIGN + EDGES), st.text(max_size=8))
_short = st.lists(_piece, min_size=1, max_size=8).map("".join)
_huge = st.sampled_from(FOREIGN).map(lambda token: (token + " & x ") * (40_000 // (len(token) + 5)))
hostile = st.one_of(_short, _short, _short, _huge)
link_typed = st.tuples(
    st.sampled_from(["https://", "http://", "https://ok.example/", "javascript:", "data:text/html,", ""]),
    hostile,
).map("".join)

ISSUE_SUMMARY = "<!here> disk full, see <https://evil.example|click here>"
EXAMPLES = 25  # per entry point (alerts: per kind); derandomized, so CI sees the same inputs every run
ALERT_EXAMPLES = 10
hostile_settings = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # No shrinking: every example drives the whole bot, and a failure already names the token and where it was.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# --- The bot under attack -------------------------------------------------------------------------------

TOKEN_SECRET = "escaping-token-0123456789"
KINDS = ("alertmanager", "grafana", "great_expectations", "soda", "generic")
PLAYBOOK = """\
name: dbt-hostile
side: dataops
description: dbt test results from a folder the test writes.
steps:
  - id: tests
    kind: dbt_artifacts
    item: failed_jobs
    artifacts: "{folder}"
    report: tests
"""
serial = itertools.count(1)


@dataclass(repr=False)
class World:
    bot: BotUnderTest
    artifacts: Path
    typed_links: set[str] = field(default_factory=set)

    def real(self, text: str) -> str:
        """The hostile text with the workspace's real outsider, user group and triage channel in it."""
        team = self.bot.team
        return (
            text.replace(OUTSIDER, team.outsider)
            .replace(GROUP, team.ml_group_id)
            .replace(TRIAGE, team.triage)
        )

    def __repr__(self) -> str:
        return "World(the bot under attack)"

    def people(self) -> set[str]:
        team = self.bot.team
        return {
            *team.ml,
            *team.ml_group,
            *team.data,
            *team.data_group,
            team.ml_lead,
            team.data_lead,
            team.commander,
        }


@pytest.fixture
async def world(sb: SlackSandbox, redis_url: str, tmp_path: Path) -> AsyncIterator[World]:
    await flush(redis_url)
    artifacts, folder = tmp_path / "dbt", tmp_path / "playbooks"
    artifacts.mkdir()
    folder.mkdir()
    (folder / "dbt-hostile.yaml").write_text(PLAYBOOK.format(folder=artifacts))
    team = make_team(sb)
    alerts = {
        "announce_after": "0.01s",
        "sources": {kind: {"kind": kind, "auth": "bearer", "secret": TOKEN_SECRET} for kind in KINDS},
    }
    config = team_config(team, alerts=alerts, playbooks={"folders": [str(folder)], "builtin": False})
    bot = BotUnderTest(sb=sb, team=team, config=config, redis_url=redis_url)
    await bot.start()
    try:
        yield World(bot, artifacts)
    finally:
        await bot.stop()


async def settle(bot: BotUnderTest) -> None:
    """Wait for everything the bot started: listener work, playbook runs, alert openings and announcements."""
    for _ in range(2):
        await bot.bot.services.tasks.drain()
        await bot.bot.playbooks.settle()
        await bot.bot.alerts.settle()


async def command(world: World, user: str, text: str, channel: str | None = None) -> None:
    await world.bot.sb.slash_command(user, "/incident", text, channel=channel)
    await settle(world.bot)


async def submit(world: World, user: str, values: dict[str, Any]) -> None:
    """Fill and submit the modal the last action opened; a modal refused with errors is closed."""
    await settle(world.bot)
    await world.bot.sb.submit_view(user, values=values)
    await settle(world.bot)
    while world.bot.sb.open_views(user):
        await world.bot.sb.close_view(user)


async def awaiting_incident(world: World) -> Incident:
    """An incident waiting for its decision, with DataOps freshness anomalous; opened when there is none."""
    for incident in await world.bot.incidents():
        if incident.awaiting_decision and incident.title.startswith("Target "):
            return incident
    team = world.bot.team
    await command(world, team.commander, f"open Target {next(serial)} sev3")
    (incident,) = [
        i for i in await world.bot.incidents() if i.awaiting_decision and i.title.startswith("Target ")
    ]
    await world.bot.sb.click(
        team.data[0], "Set", channel=incident.channel_id, value=f"{incident.id}|dataops.table_freshness"
    )
    await submit(world, team.data[0], {"Status": "Anomalous", "What you found": "6 h late"})
    return incident


# --- The ways in --------------------------------------------------------------------------------------------


@hostile_settings
@given(sub=st.sampled_from(["open", "open", "open", "run", "status", "close", "reopen", ""]), text=hostile)
@example(
    sub="open", text="<!channel> x"
)  # the finding: the title raw in the card's fallback text and the topic
async def test_slash_command(world: World, sub: str, text: str) -> None:
    """`/incident open <hostile>` (card, topic, checklists, receipt), and the refusals that quote the text."""
    channel = (await awaiting_incident(world)).channel_id if sub in ("run", "close", "reopen") else None
    await command(world, world.bot.team.commander, f"{sub} {world.real(text)}".strip(), channel)
    assert_clean(world)


@hostile_settings
@given(title=hostile, model=hostile, table=hostile, job=hostile, description=hostile)
@example(title="<!channel> x", model="<@U0BOSS>", table="a>b", job="a & b", description=ISSUE_SUMMARY)
async def test_open_modal(
    world: World, title: str, model: str, table: str, job: str, description: str
) -> None:
    """The open form's title, assets and description on the card, the topic and the receipt."""
    user = world.bot.team.commander
    await command(world, user, "open")
    values = {
        "Title": ("T" + world.real(title))[:150],
        "Severity": "SEV2",
        "Affected model or endpoint": world.real(model)[:200],
        "Affected table": world.real(table)[:200],
        "Affected job": world.real(job)[:200],
        "Description": world.real(description)[:2900],
    }
    before = len(await world.bot.incidents())
    await submit(world, user, values)
    assert len(await world.bot.incidents()) == before + 1  # the form was accepted: the text went in
    assert_clean(world)


def alert_payload(kind: str, n: int, summary: str, again: str, label: str, note: str) -> Any:
    """Two alerts of one burst of `kind`: the first opens an incident, the second is announced in it."""
    asset = f"t{n} {label}"[:200]
    if kind in ("alertmanager", "grafana"):
        labels = {"alertname": "HostileText", "table": asset, "team": label}
        alerts = [am_alert(f"h{n}{x}", labels, text) for x, text in (("a", summary), ("b", again))]
        for alert in alerts:
            alert["annotations"]["description"] = note
        body = am_webhook(alerts, group_key=f'{{}}:{{n="{n}"}}')
        if kind == "grafana":
            body |= {"orgId": 1, "title": summary, "message": note, "state": "alerting"}
        return body
    if kind == "generic":
        return {
            "alerts": [
                {
                    "dedup_key": f"h{n}{x}",
                    "status": "firing",
                    "summary": ("S" + text)[:2000],
                    "severity": "sev3",
                    "labels": {"team": label},
                    "annotations": {"description": note},
                    "assets": [{"kind": "table", "name": asset}],
                }
                for x, text in (("a", summary), ("b", again))
            ]
        }
    if kind == "soda":
        body = copy.deepcopy(fixture_json("soda_scan_results.json"))
        body["checks"] = body["checks"][:2]
        for i, (check, text) in enumerate(zip(body["checks"], (summary, again), strict=True)):
            check |= {"identity": f"h{n}-{i}", "name": text, "table": asset, "definition": note}
        return body
    body = copy.deepcopy(fixture_json("gx_validation_result.json"))
    body["results"] = body["results"][:2]
    body["meta"]["active_batch_definition"]["data_asset_name"] = asset
    for result, text in zip(body["results"], (summary, again), strict=True):
        result["expectation_config"]["kwargs"]["batch_id"] = f"pandas-{asset}"
        result["expectation_config"]["meta"] = {"owner": label}
        result["exception_info"] = {"raised_exception": True, "exception_message": text}
    return body


@pytest.mark.parametrize("kind", KINDS)
@settings(hostile_settings, max_examples=ALERT_EXAMPLES)
@given(summary=hostile, again=hostile, label=hostile, note=hostile)
@example(summary="disk full", again=ISSUE_SUMMARY, label="<@U0BOSS>", note="<!channel>")  # the finding
async def test_alert(world: World, kind: str, summary: str, again: str, label: str, note: str) -> None:
    """Summary, labels and annotations of an alert of each kind: title, card, topic, and `• Firing: …`."""
    bot = world.bot
    body = alert_payload(kind, next(serial), *(world.real(t) for t in (summary, again, label, note)))
    assert bot.server is not None
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{bot.server.base_url}/alerts/{kind}",
            content=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {TOKEN_SECRET}", "Content-Type": "application/json"},
        )
    assert response.status_code == 202, response.text
    before = len(await bot.incidents())
    await bot.bot.alerts.drain()
    await settle(bot)
    incidents = await bot.incidents()
    assert len(incidents) == before + 1  # the first alert opened one, the second joined it...
    newest = max(incidents, key=lambda i: i.created_at)
    assert newest.channel_id
    assert any(":bell:" in m.text for m in bot.messages(newest.channel_id))  # ...announced
    assert_clean(world)


@hostile_settings
@given(
    ref=st.sampled_from(
        ["dataops.volume", "dataops.schema_changes", "dataops.failed_jobs", "dataops.table_freshness"]
    ),
    status=st.sampled_from(["OK", "Anomalous", "Unknown", "N/A"]),
    detail=hostile,
    link=link_typed,
)
@example(ref="dataops.volume", status="Anomalous", detail="x", link="https://ok.example/a>x <!channel>")
async def test_evidence_modal(world: World, ref: str, status: str, detail: str, link: str) -> None:
    """What a responder found and the link they gave: the checklist, the full text in the thread, the card."""
    incident = await awaiting_incident(world)
    user = world.bot.team.data[0]
    link = world.real(link)[:2900]
    world.typed_links.add(unquote(link.strip()))
    await world.bot.sb.click(user, "Set", channel=incident.channel_id, value=f"{incident.id}|{ref}")
    await submit(
        world,
        user,
        {"Status": status, "What you found": world.real(detail)[:2900], "Link (dashboard, query, run)": link},
    )
    assert_clean(world)


@hostile_settings
@given(asset=hostile, note=hostile, other=hostile, finish=st.sampled_from(["reopen", "close"]), why=hostile)
@example(asset="<!here> table", note="<!channel>", other="x", finish="reopen", why="<!everyone>")
async def test_verdict_modal(world: World, asset: str, note: str, other: str, finish: str, why: str) -> None:
    """The failed asset named in the verdict form (proposal, decision, topic), the notes, and the close or
    reopen note that follows the decision."""
    incident = await awaiting_incident(world)
    team, channel = world.bot.team, incident.channel_id
    data, ml = team.data[0], team.ml[0]
    await world.bot.sb.click(data, "Confirm for DataOps", channel=channel)
    await submit(
        world,
        data,
        {
            "DataOps verdict": "Our asset failed",
            "Failed asset: kind (if your asset failed)": "Table",
            "Failed asset: name (if your asset failed)": ("A" + world.real(asset))[:200],
            "Who owns the prevention work (if your asset failed)": data,
            "Note": world.real(note)[:2000],
        },
    )
    await world.bot.sb.click(ml, "Confirm for MLOps", channel=channel)
    await submit(world, ml, {"MLOps verdict": "Our side is clear", "Note": world.real(other)[:2000]})
    timeline = await world.bot.bot.store.timeline(incident.id)
    assert [e.kind for e in timeline].count("verdict") >= 2  # both forms were accepted
    if (await world.bot.bot.store.get(incident.id)).decision is not None:
        who = team.ml_lead if finish == "reopen" else data
        await command(world, who, f"{finish} n{world.real(why)}", channel)
    assert_clean(world)


def dbt_artifacts(folder: Path, names: Iterable[str]) -> None:
    """run_results.json and manifest.json in which every node and test is named by hostile text."""
    results, parents = [], {}
    for n, name in enumerate(names):
        results += [
            {"unique_id": f"model.pkg.{name}", "status": "error"},
            {"unique_id": f"test.pkg.{name}{n}", "status": "fail"},
        ]
        parents[f"test.pkg.{name}{n}"] = [f"model.pkg.{name}"]
    (folder / "run_results.json").write_text(json.dumps({"results": results}))
    (folder / "manifest.json").write_text(json.dumps({"parent_map": parents}))


@hostile_settings
@given(names=st.lists(hostile, min_size=1, max_size=3))
@example(names=["<!here>", "<https://evil.example|click here>"])
async def test_playbook_finding(world: World, names: list[str]) -> None:
    """A playbook step whose finding names hostile dbt nodes: the progress message, the checklist, the card."""
    incident = await awaiting_incident(world)
    dbt_artifacts(world.artifacts, (world.real(n) for n in names))
    channel = incident.channel_id or ""
    runs = lambda: [m for m in world.bot.messages(channel) if m.text.startswith("Playbook dbt-hostile")]  # noqa: E731
    before = len(runs())
    await command(world, world.bot.team.data[0], "run dbt-hostile", channel)
    assert len(runs()) == before + 1  # the run posted its progress
    assert_clean(world)


def test_the_checker_finds_what_escaping_prevents() -> None:
    """The checker itself: the bot's own tokens pass; a mention, a link or a stray bracket from outside fails."""
    allowed = Allowed(users={"U1"}, channels={"C1"}, typed_links={"https://ok.example/a>x <!channel>"})
    built = "<@U1> in <#C1> <!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC> &amp; &lt;"
    assert foreign_tokens(built, allowed) == []
    assert foreign_tokens("<https://ok.example/a%3Ex%20%3C!channel%3E|link>", allowed) == []
    for bad in ("<!here>", "<@U2>", "<#C2>", "<https://evil.example|click>", "<!subteam^S1>", "a > b", "&"):
        assert foreign_tokens(bad, allowed), bad
    assert foreign_tokens("<https://ok.example/a>x <!channel>|link>", allowed)
