"""Issue 4: `/incident` opens a channel, invites both sides, pins the card, keeps the record in Redis."""

from __future__ import annotations

import asyncio
import re

from bot.domain.models import IncidentState, Severity
from tests.support.bot import BotUnderTest, eventually

CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


async def open_by_command(bot: BotUnderTest, text: str, user: str | None = None) -> str:
    """Run `/incident open ...` and wait until the incident's channel is fully opened; returns its id."""
    before = {c.id for c in bot.sb.channels()}
    ack = await bot.sb.slash_command(user or bot.team.commander, "/incident", text)
    assert ack.ok, ack

    async def opened() -> str | None:
        for incident in await bot.incidents():
            if incident.channel_id and incident.channel_id not in before and incident.opening.done:
                return incident.channel_id
        return None

    return str(await eventually(opened, what="incident opened"))


class TestOpenByCommand:
    async def test_opens_channel_with_both_sides_and_pinned_card(self, bot: BotUnderTest) -> None:
        """`/incident open` creates a valid channel, invites responders, group members and the commander."""
        channel_id = await open_by_command(bot, "open Churn model predictions all zero sev2")
        channel = bot.sb.channel(channel_id)
        assert CHANNEL_NAME.match(channel.name)
        assert channel.name.startswith("inc-")
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
        incident = await bot.incident_in(channel_id)
        assert incident.severity is Severity.SEV2
        assert incident.state is IncidentState.INVESTIGATING
        assert incident.commander == bot.team.commander
        card = bot.sb.message(channel_id, incident.card_ts or "")
        assert card.pinned
        text = str(card.blocks)
        assert "Churn model predictions all zero" in text
        assert "SEV2" in text
        assert bot.team.commander in text
        assert incident.id in channel.topic.value
        checklists = [m for m in bot.messages(channel_id) if "evidence for" in m.text]
        assert len(checklists) == 2

    async def test_same_title_same_day_gets_two_channels(self, bot: BotUnderTest) -> None:
        """Two incidents with one title on one day get two distinct, valid channel names."""
        first = await open_by_command(bot, "open Stale features sev3", bot.team.commander)
        second = await open_by_command(bot, "open Stale features sev3", bot.team.ml[0])
        names = {bot.sb.channel(first).name, bot.sb.channel(second).name}
        assert len(names) == 2
        assert all(CHANNEL_NAME.match(n) for n in names)

    async def test_repeated_command_opens_one_incident(self, bot: BotUnderTest) -> None:
        """The same person sending the same open twice at once gets one incident and one channel."""
        user = bot.team.commander
        acks = await asyncio.gather(
            *(bot.sb.slash_command(user, "/incident", "open Double typed sev2") for _ in range(2))
        )
        assert all(a.ok for a in acks)
        await eventually(lambda: [c for c in bot.sb.channels() if "double-typed" in c.name], what="channel")
        await asyncio.sleep(0.5)
        assert len([c for c in bot.sb.channels() if "double-typed" in c.name]) == 1
        assert len([i for i in await bot.incidents() if i.title == "Double typed"]) == 1


class TestBadInput:
    async def test_unknown_subcommand_is_an_ephemeral_error(self, bot: BotUnderTest) -> None:
        """An unknown subcommand answers with usage, visible only to the person, and creates nothing."""
        ack = await bot.sb.slash_command(bot.team.commander, "/incident", "opne Something")
        assert ack.ok
        seen = bot.sb.ephemerals(bot.team.commander)
        assert "Unknown subcommand `opne`" in seen[-1].text
        assert "/incident help" in seen[-1].text
        await asyncio.sleep(0.3)
        assert await bot.incidents() == []

    async def test_bad_severity_is_an_ephemeral_error(self, bot: BotUnderTest) -> None:
        """A bad severity names the accepted values and creates nothing."""
        await bot.sb.slash_command(bot.team.commander, "/incident", "open Broken thing sev9")
        assert "`sev9` is not a severity" in bot.sb.ephemerals(bot.team.commander)[-1].text
        await asyncio.sleep(0.3)
        assert await bot.incidents() == []
        assert not [c for c in bot.sb.channels() if c.name.startswith("inc-")]

    async def test_status_outside_an_incident_channel_says_how(self, bot: BotUnderTest) -> None:
        """`status` in an ordinary channel explains where it works instead of failing silently."""
        general = bot.sb.add_channel("general", members=[bot.team.commander, bot.sb.bot_user_id])
        await bot.sb.slash_command(bot.team.commander, "/incident", "status", channel=general.id)
        seen = await eventually(
            lambda: [e for e in bot.sb.ephemerals(bot.team.commander) if "not an incident channel" in e.text],
            what="ephemeral",
        )
        assert seen


class TestStatusAfterRestart:
    async def test_status_shows_the_same_incident_after_restart(self, bot: BotUnderTest) -> None:
        """After the bot restarts, `/incident status` in the channel shows the incident from Redis."""
        channel_id = await open_by_command(bot, "open Restart me sev4")
        incident = await bot.incident_in(channel_id)
        await bot.restart()
        await bot.sb.slash_command(bot.team.commander, "/incident", "status", channel=channel_id)
        shown = await eventually(
            lambda: [e for e in bot.sb.ephemerals(bot.team.commander) if incident.id in e.text and e.blocks],
            what="status ephemeral",
        )
        assert "Restart me" in str(shown[-1].blocks)


class TestActivity:
    async def test_a_message_in_the_channel_resets_the_reminder_clock(self, bot: BotUnderTest) -> None:
        """A person's message event in an incident channel counts as activity; a bot's message does not."""
        channel_id = await open_by_command(bot, "open Quiet incident sev3")
        before = (await bot.incident_in(channel_id)).last_activity_at
        await asyncio.sleep(0.05)
        await bot.sb.send_event(
            "message", channel=channel_id, user=bot.team.ml[0], text="looking", bot_id=None
        )

        async def touched() -> bool:
            return (await bot.incident_in(channel_id)).last_activity_at > before

        await eventually(touched, what="activity recorded")
        after = (await bot.incident_in(channel_id)).last_activity_at
        await bot.sb.send_event("message", channel=channel_id, user=bot.sb.bot_user_id, text="x", bot_id="B1")
        await asyncio.sleep(0.3)
        assert (await bot.incident_in(channel_id)).last_activity_at == after
