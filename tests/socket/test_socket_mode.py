"""Issue 18: the bot in Socket Mode passes what it passes over HTTP, and survives a dropped or refreshed link.

The people act through the stand-in exactly as in tests/scenarios; their requests reach the bot as Socket Mode
envelopes (sb.delivery = "socket", no request URL), and the bot's acks come back over the WebSocket.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from bot.domain.models import EvidenceStatus, IncidentState, Owner, Side
from slack_sandbox import SlackSandbox
from tests.scenarios.steps import confirm, open_incident, set_evidence
from tests.socket.conftest import SocketBot
from tests.support.bot import SIGNING_SECRET, Team, eventually, flush, make_team
from tests.support.reference import ROOT

CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


def decision_messages(bot: SocketBot, channel: str) -> list[object]:
    return [m for m in bot.messages(channel) if "ownership decided" in m.text]


def assert_all_over_the_socket(sb: SlackSandbox) -> None:
    """Every request went as an envelope and was acked; nothing was posted over HTTP."""
    assert (sb.request_url, sb.delivery) == (None, "socket")
    envelopes = sb.socket_envelopes()
    assert envelopes
    assert all(e.acked for e in envelopes), [e for e in envelopes if not e.acked]


class TestLikeHttp:
    async def test_open_by_command_posts_the_card_and_both_checklists(self, bot: SocketBot) -> None:
        incident = await open_incident(bot, "open Churn model predictions all zero sev2")
        channel = bot.sb.channel(incident.channel_id or "")
        assert CHANNEL_NAME.match(channel.name)
        assert channel.name.endswith("churn-model-predictions-all-zero")
        expected = {
            *bot.team.ml,
            *bot.team.ml_group,
            *bot.team.data,
            *bot.team.data_group,
            bot.team.commander,
        }
        assert expected <= set(channel.members)
        assert bot.team.outsider not in channel.members
        assert bot.sb.message(channel.id, incident.card_ts or "").pinned
        assert incident.id in channel.topic.value
        checklists = [m for m in bot.messages(channel.id) if "evidence for" in m.text]
        assert len(checklists) == 2
        [command] = bot.sb.socket_envelopes("slash_commands")
        assert command.payload["text"] == "open Churn model predictions all zero sev2"
        assert_all_over_the_socket(bot.sb)

    async def test_evidence_by_buttons_and_modals_then_verdicts_decide(self, bot: SocketBot) -> None:
        incident = await open_incident(bot)
        channel = incident.channel_id or ""
        data, ml = bot.team.data[0], bot.team.ml_group[0]
        await set_evidence(
            bot, data, incident, "dataops.table_freshness", "Anomalous", "features.user_daily 6 h old"
        )
        await set_evidence(bot, ml, incident, "mlops.serving_health", "OK", "ready, p99 80 ms")
        checklist = lambda: str(bot.sb.message(channel, incident.checklist_ts[Side.DATAOPS]).blocks)  # noqa: E731
        await eventually(lambda: "features.user_daily 6 h old" in checklist(), what="checklist updated")
        await confirm(
            bot, data, incident, Side.DATAOPS, "Our asset failed", ("Table", "features.user_daily"), data
        )
        assert decision_messages(bot, channel) == []
        await confirm(bot, ml, incident, Side.MLOPS, "Our side is clear")
        posted = await eventually(lambda: decision_messages(bot, channel), what="decision")
        text = str(posted[0].blocks)  # type: ignore[attr-defined]
        assert "DataOps" in text
        assert "features.user_daily" in text
        decided = await bot.bot.store.get(incident.id)
        assert decided.state is IncidentState.DECIDED
        assert decided.decision is not None
        assert decided.decision.owner is Owner.DATAOPS
        await asyncio.sleep(0.3)
        assert len(decision_messages(bot, channel)) == 1
        kinds = {e.kind for e in bot.sb.socket_envelopes()}
        assert {"slash_command", "block_actions", "view_submission"} <= kinds
        assert_all_over_the_socket(bot.sb)

    async def test_an_outsider_is_refused_with_an_ephemeral(self, bot: SocketBot) -> None:
        incident = await open_incident(bot)
        outsider = bot.team.outsider
        await bot.sb.join(outsider, incident.channel_id or "")
        await bot.sb.click(
            outsider, "Set", channel=incident.channel_id, value=f"{incident.id}|dataops.volume"
        )
        refusal = await eventually(
            lambda: [e for e in bot.sb.ephemerals(outsider) if "Only DataOps responders" in e.text],
            what="refusal",
        )
        assert refusal
        assert bot.sb.open_views(outsider) == []
        evidence = (await bot.bot.store.get(incident.id)).evidence["dataops.volume"]
        assert evidence.status is EvidenceStatus.UNKNOWN
        assert_all_over_the_socket(bot.sb)


class TestTheLink:
    async def test_a_dropped_socket_reconnects_and_loses_or_repeats_nothing(self, bot: SocketBot) -> None:
        """Abrupt drops (no close frame) between two requests and with a command in flight: the bot
        reconnects through apps.connections.open; every envelope is acked, each mention answered once,
        the command that was in flight is sent again (retry_attempt 1) and opens one incident."""
        sb, cora = bot.sb, bot.team.commander
        general = sb.add_channel("general", members=[cora, sb.bot_user_id])

        async def mention(n: int) -> str:
            message = await sb.mention(cora, general, f"help {n}")
            await eventually(
                lambda: len(sb.thread(general.id, message.ts)) >= 2, what=f"answer to mention {n}"
            )
            return message.ts

        asked = [await mention(1)]
        assert await sb.drop_socket() == 1  # between two requests
        asked.append(await mention(2))  # waits for the new connection
        await sb.drop_socket(after_envelopes=1)  # the next envelope is in flight when the link dies
        incident = await open_incident(bot, "open Dropped mid-stream sev3")
        asked.append(await mention(3))

        await asyncio.sleep(0.5)  # anything processed twice would have answered by now
        assert [len(sb.thread(general.id, ts)) for ts in asked] == [2, 2, 2]  # the mention + one answer
        assert [i.id for i in await bot.incidents() if i.title == "Dropped mid-stream"] == [incident.id]
        assert len([c for c in sb.channels() if c.name.endswith("dropped-mid-stream")]) == 1
        envelopes = sb.socket_envelopes()
        assert all(e.acked for e in envelopes)
        [command] = [e for e in envelopes if e.kind == "slash_command"]
        assert [s.retry_attempt for s in command.sends] == [0, 1]
        assert [s.retry_reason for s in command.sends] == ["", "connection_lost"]
        assert all(len(e.sends) == 1 for e in envelopes if e is not command)  # acked ones never again
        assert [c.closed_by for c in sb.socket_connections()] == ["drop", "drop", None]
        assert len(sb.calls("apps.connections.open", ok=True)) == 3

    async def test_a_refresh_request_is_followed_by_a_reconnect(self, bot: SocketBot) -> None:
        sb, cora = bot.sb, bot.team.commander
        incident = await open_incident(bot)
        assert await sb.socket_disconnect("refresh_requested") == 1
        connection = await sb.wait_for_socket(connections=2)
        await sb.slash_command(cora, "/incident", "status", channel=incident.channel_id)
        await eventually(
            lambda: [e for e in sb.ephemerals(cora) if incident.id in e.text and e.blocks], what="status"
        )
        status = sb.socket_envelopes("slash_commands")[-1]
        assert len(status.sends) == 1
        assert status.sends[0].connection >= connection.id > 1  # over the new connection
        await eventually(lambda: not sb.socket_connections()[0].open, what="the old connection closed")
        assert sb.socket_connections()[0].disconnect_reason == "refresh_requested"
        assert len(sb.calls("apps.connections.open", ok=True)) == 2
        assert_all_over_the_socket(sb)


def write_config(team: Team, path: Path) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "sides": {
                    "mlops": {"users": team.ml, "usergroups": [team.ml_group_id], "leads": [team.ml_lead]},
                    "dataops": {
                        "users": team.data,
                        "usergroups": [team.data_group_id],
                        "leads": [team.data_lead],
                    },
                },
                "triage_channel": team.triage,
                "reminders": {"sweep_every": "1h"},
            }
        )
    )
    return path


async def test_the_handoff_socket_command(sb: SlackSandbox, redis_url: str, tmp_path: Path) -> None:
    """`handoff socket` as its own process: it connects, opens an incident from the slash command, posts both
    checklists, refuses an outsider, and stops cleanly on SIGTERM (closing its connection)."""
    await flush(redis_url)
    team = make_team(sb)
    sb.delivery = "socket"
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": sb.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": sb.app_token,
        "SLACK_API_URL": sb.api_url,
        "REDIS_URL": redis_url,
        "HANDOFF_CONFIG": str(write_config(team, tmp_path / "handoff.yaml")),
        "LOG_FORMAT": "json",
    }
    with (tmp_path / "handoff.log").open("w") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "socket", cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            await sb.wait_for_socket(timeout=60)
            ack = await sb.slash_command(team.commander, "/incident", "open Socket process sev3")
            assert ack.ok, ack
            channel = await eventually(
                lambda: next((c for c in sb.channels() if c.name.endswith("socket-process")), None),
                timeout=30,
                what="incident channel",
            )
            await eventually(
                lambda: len([m for m in sb.messages(channel.id) if "evidence for" in m.text]) == 2,
                timeout=30,
                what="both checklists",
            )
            await sb.join(team.outsider, channel.id)
            await sb.click(team.outsider, "Confirm for DataOps", channel=channel.id)
            await eventually(
                lambda: [e for e in sb.ephemerals(team.outsider) if "Only DataOps responders" in e.text],
                what="refusal",
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    output = (tmp_path / "handoff.log").read_text()
    assert proc.returncode == 0, output[-3000:]
    assert [c.closed_by for c in sb.socket_connections()] == ["app"], output[-3000:]
    assert all(e.acked for e in sb.socket_envelopes())
