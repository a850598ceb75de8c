"""The alerts issue end to end: payloads posted to the running bot's webhook become incidents and channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

import httpx
import pytest
from redis.asyncio import Redis

from bot.domain.incident import Incident
from bot.domain.models import Asset, AssetKind, IncidentState, Severity
from bot.slack.escape import mrkdwn
from bot.store import keys
from bot.store.alert_inbox import AlertInbox
from slack_sandbox import SlackSandbox
from tests.support.alerts import (
    ALL_RESOLVED,
    alert_entries,
    alerts_redis_url,
    all_settled,
    announced_count,
    announcements,
    as_firing,
    as_resolved,
    fixture_json,
    generic_alert,
    incident_channels,
    opened,
    post_alerts,
    reconfigure,
    service,
    serving,
    settled,
)
from tests.support.bot import BotUnderTest, eventually


@pytest.fixture
def redis_url() -> str:
    return alerts_redis_url()


@pytest.fixture
async def bot(sb: SlackSandbox, redis_url: str) -> AsyncIterator[BotUnderTest]:
    """The bot serving the webhook, its consumer not running: tests drain the inbox themselves."""
    async with serving(sb, redis_url) as under_test:
        yield under_test


async def drain(bot: BotUnderTest) -> int:
    """Process everything accepted so far, and wait for the openings and announcements it started."""
    return await service(bot).drain()


@dataclass(frozen=True)
class Recorded:
    source: str
    fixture: str
    title: str
    severity: Severity
    asset: Asset


RECORDED = [
    Recorded(
        "alertmanager",
        "alertmanager_v4_firing.json",
        "replica too",
        Severity.SEV2,
        Asset(kind=AssetKind.TABLE, name="features.user_daily"),
    ),
    Recorded(
        "alertmanager",
        "alertmanager_v4_from_prometheus.json",
        "churn-model /v2/health/ready failing",
        Severity.SEV2,
        Asset(kind=AssetKind.MODEL, name="churn-model"),
    ),
    Recorded(
        "great_expectations",
        "gx_validation_result.json",
        "expect_column_values_to_be_unique failed on user_features.user_id: 2 of 4 values unexpected (50.0%)",
        Severity.SEV3,
        Asset(kind=AssetKind.TABLE, name="user_features"),
    ),
    Recorded(
        "great_expectations",
        "gx_checkpoint_describe.json",
        "expect_column_values_to_be_unique failed on user_features.user_id: 2 of 4 values unexpected (50.0%)",
        Severity.SEV3,
        Asset(kind=AssetKind.TABLE, name="user_features"),
    ),
    Recorded(
        "soda",
        "soda_scan_results.json",
        "Soda check failed: row_count > 10 on users (value 4)",
        Severity.SEV3,
        Asset(kind=AssetKind.TABLE, name="users"),
    ),
]


class TestRecordedPayloads:
    @pytest.mark.parametrize("case", RECORDED, ids=[r.fixture.removesuffix(".json") for r in RECORDED])
    async def test_payload_opens_one_incident_and_a_repost_adds_to_it(
        self, bot: BotUnderTest, case: Recorded
    ) -> None:
        """A recorded payload opens one incident (title, severity, asset); posting it again adds to that one."""
        payload = fixture_json(case.fixture)
        keys_ = await post_alerts(bot, case.source, payload)
        assert await drain(bot) == len(keys_)

        (incident,) = await bot.incidents()
        assert incident.origin == "alert"
        assert incident.opening.done
        assert incident.title == case.title
        assert incident.severity is case.severity
        assert incident.assets == [case.asset]
        assert incident.alert_keys == keys_
        assert incident.alerts_firing == keys_
        assert incident.state is IncidentState.INVESTIGATING
        assert incident.channel_id is not None
        assert incident_channels(bot) == [incident.channel_id]
        card = bot.sb.message(incident.channel_id, incident.card_ts or "")
        assert card.pinned
        assert mrkdwn(case.title[:60]) in str(card.blocks)  # escaped: `row_count &gt; 10`
        # The opening alert is the incident itself; the others of the payload are announced in one message.
        assert await alert_entries(bot, incident.id) == keys_[1:]
        assert len(announcements(bot, incident.channel_id)) == (1 if len(keys_) > 1 else 0)

        assert await post_alerts(bot, case.source, payload) == keys_
        assert await drain(bot) == len(keys_)
        (again,) = await bot.incidents()
        assert again.id == incident.id
        assert incident_channels(bot) == [incident.channel_id]
        assert again.alert_keys == keys_
        assert again.alerts_firing == keys_
        assert await alert_entries(bot, incident.id) == [*keys_[1:], *keys_]
        assert await settled(bot, again)
        last = announcements(bot, incident.channel_id)[-1].text
        assert f":bell: {len(keys_)} alert update(s) for {incident.id}" in last
        assert ALL_RESOLVED not in last

    async def test_each_source_opens_its_own_incident_and_a_second_run_joins_by_asset(
        self, bot: BotUnderTest
    ) -> None:
        """All recorded payloads at once: one incident per asset; GX's other form joins the GX incident."""
        for case in RECORDED:
            await post_alerts(bot, case.source, fixture_json(case.fixture))
        await drain(bot)
        incidents = await bot.incidents()
        by_asset = {tuple(i.assets): i for i in incidents}
        assert set(by_asset) == {(c.asset,) for c in RECORDED}
        assert len(incidents) == 4
        assert len(incident_channels(bot)) == 4
        gx = by_asset[(Asset(kind=AssetKind.TABLE, name="user_features"),)]
        assert len(gx.alert_keys) == 6
        assert gx.severity is Severity.SEV3
        assert all(i.opening.done for i in incidents)


class TestResolved:
    async def test_resolutions_are_noted_and_all_resolved_is_said_but_the_incident_stays_open(
        self, bot: BotUnderTest
    ) -> None:
        """One alert of two resolving is noted; the last one too, with "all resolved"; the state is unchanged."""
        firing = fixture_json("alertmanager_v4_firing.json")
        first, second = (a["fingerprint"] for a in firing["alerts"])
        await post_alerts(bot, "alertmanager", firing)
        await drain(bot)
        (incident,) = await bot.incidents()
        assert incident.channel_id is not None

        await post_alerts(bot, "alertmanager", as_resolved(firing, [first]))
        await drain(bot)
        current = await bot.bot.store.get(incident.id)
        assert current.alerts_firing == [second]
        text = announcements(bot, incident.channel_id)[-1].text
        assert "Resolved: replica too (alertmanager)" in text
        assert "Firing: user_daily not updated for 6h (alertmanager)" in text
        assert ALL_RESOLVED not in text

        await post_alerts(bot, "alertmanager", as_resolved(firing))
        await drain(bot)
        current = await bot.bot.store.get(incident.id)
        assert current.alerts_firing == []
        assert current.alert_keys == [first, second]
        text = announcements(bot, incident.channel_id)[-1].text
        assert "Resolved: user_daily not updated for 6h (alertmanager)" in text
        assert ALL_RESOLVED in text
        assert current.state is IncidentState.INVESTIGATING
        assert current.active
        assert [i.id for i in await bot.incidents()] == [incident.id]
        assert await settled(bot, current)

    async def test_recorded_resolution_after_its_firing_notification(self, bot: BotUnderTest) -> None:
        """The recorded resolved payload, after the firing one it ends, is noted and resolves the incident."""
        resolved = fixture_json("alertmanager_v4_resolved.json")
        (key,) = await post_alerts(bot, "alertmanager", as_firing(resolved))
        await drain(bot)
        (incident,) = await bot.incidents()
        assert incident.title == "PSI back to 0.05"
        assert incident.alerts_firing == [key]
        assert incident.channel_id is not None
        assert announcements(bot, incident.channel_id) == []

        await post_alerts(bot, "alertmanager", resolved)
        await drain(bot)
        (text,) = (m.text for m in announcements(bot, incident.channel_id))
        assert f":bell: 1 alert update(s) for {incident.id}" in text
        assert "Resolved: PSI back to 0.05 (alertmanager)" in text
        assert ALL_RESOLVED in text
        current = await bot.bot.store.get(incident.id)
        assert current.state is IncidentState.INVESTIGATING
        assert current.alerts_firing == []

    async def test_resolution_without_an_incident_opens_nothing(self, bot: BotUnderTest) -> None:
        """A resolved alert no open incident knows is consumed and opens no incident or channel."""
        await post_alerts(bot, "alertmanager", fixture_json("alertmanager_v4_resolved.json"))
        assert await drain(bot) == 1
        assert await bot.incidents() == []
        assert incident_channels(bot) == []


class TestGrouping:
    async def test_alerts_on_one_asset_share_an_incident_others_do_not(self, bot: BotUnderTest) -> None:
        """Two alerts with different keys on one asset join one incident; another asset gets its own."""
        await post_alerts(bot, "generic", generic_alert("orders-freshness", "orders", "orders is stale"))
        await drain(bot)
        await post_alerts(bot, "generic", generic_alert("orders-volume", "orders", "orders volume dropped"))
        await post_alerts(bot, "generic", generic_alert("users-schema", "users", "users schema changed"))
        await drain(bot)
        by_title = {i.title: i for i in await bot.incidents()}
        assert set(by_title) == {"orders is stale", "users schema changed"}
        assert by_title["orders is stale"].alert_keys == ["orders-freshness", "orders-volume"]
        assert by_title["users schema changed"].alert_keys == ["users-schema"]
        assert len(incident_channels(bot)) == 2

    async def test_an_alert_after_the_window_opens_a_new_incident(
        self, bot: BotUnderTest, redis_url: str
    ) -> None:
        """With a 1 s window, another key on the asset after the window opens a second incident; the first
        key still finds its own incident (dedup is not windowed)."""
        await reconfigure(bot, background=False, group_window="1s")
        await post_alerts(bot, "generic", generic_alert("orders-freshness", "orders", "orders is stale"))
        await post_alerts(bot, "generic", generic_alert("orders-volume", "orders", "orders volume dropped"))
        await drain(bot)
        (first,) = await bot.incidents()
        assert first.alert_keys == ["orders-freshness", "orders-volume"]

        redis = Redis.from_url(redis_url)
        try:
            window = keys.asset_incident(str(Asset(kind=AssetKind.TABLE, name="orders")))
            await eventually(lambda: _gone(redis, window), timeout=10, what="the asset's window to pass")
        finally:
            await redis.aclose()
        await post_alerts(bot, "generic", generic_alert("orders-nulls", "orders", "orders has nulls"))
        await drain(bot)
        await post_alerts(bot, "generic", generic_alert("orders-freshness", "orders", "orders is stale"))
        await drain(bot)
        by_title = {i.title: i for i in await bot.incidents()}
        assert set(by_title) == {"orders is stale", "orders has nulls"}
        assert by_title["orders is stale"].id == first.id
        assert by_title["orders has nulls"].alert_keys == ["orders-nulls"]
        assert await alert_entries(bot, first.id) == ["orders-volume", "orders-freshness"]
        assert len(incident_channels(bot)) == 2


async def _gone(redis: Redis, key: str) -> bool:
    return not await redis.exists(key)


class TestBurst:
    async def test_twenty_alerts_make_at_most_two_channel_messages(self, bot: BotUnderTest) -> None:
        """20 alerts for an open incident, posted at once to the live consumer: every one is on the
        timeline, and the channel gets one (at most two) alert-update messages for them."""
        await reconfigure(bot, background=True, announce_after="1s")
        await post_alerts(bot, "generic", generic_alert("orders-freshness", "orders", "orders is stale"))
        (incident,) = await eventually(lambda: opened(bot), what="incident opened")
        assert incident.channel_id is not None

        burst = [f"orders-check-{n:02d}" for n in range(20)]
        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.gather(
                *(post_alerts(bot, "generic", generic_alert(k, "orders"), client) for k in burst)
            )
        await eventually(lambda: _all_on_timeline(bot, incident.id, burst), what="the burst on the timeline")
        await eventually(lambda: settled(bot, incident), what="the burst announced")
        messages = announcements(bot, incident.channel_id)
        assert 1 <= len(messages) <= 2, [m.text for m in messages]
        assert announced_count(bot, incident.channel_id) == 20
        assert len(await bot.incidents()) == 1
        assert incident_channels(bot) == [incident.channel_id]

    async def test_alerts_during_a_slow_opening_are_announced_after_it(self, bot: BotUnderTest) -> None:
        """Alerts joining while Slack is slow to create the channel are announced once, after the card and
        checklists: not lost for want of a channel, not posted in the middle of the opening."""
        bot.sb.inject("conversations.create", "slow", delay=1.0)
        await post_alerts(bot, "alertmanager", fixture_json("alertmanager_v4_firing.json"))
        await post_alerts(bot, "soda", fixture_json("soda_scan_results.json"))
        await drain(bot)
        incidents = await bot.incidents()
        assert len(incidents) == 2
        for incident in incidents:
            assert incident.channel_id is not None
            assert await settled(bot, incident)
            texts = [m.text for m in bot.messages(incident.channel_id)]
            (announced,) = [n for n, t in enumerate(texts) if ":bell:" in t]
            checklists = [n for n, t in enumerate(texts) if "evidence for" in t]
            assert len(checklists) == 2
            assert max(checklists) < announced


async def _all_on_timeline(bot: BotUnderTest, incident_id: str, expected: list[str]) -> bool:
    return sorted(await alert_entries(bot, incident_id)) == sorted(expected)


class TestDurability:
    async def test_alerts_accepted_while_no_consumer_runs_are_processed_after_restart(
        self, bot: BotUnderTest, redis_url: str
    ) -> None:
        """202 means kept: alerts accepted with no consumer running open their incidents once one starts."""
        await post_alerts(bot, "generic", generic_alert("orders-freshness", "orders", "orders is stale"))
        await post_alerts(bot, "soda", fixture_json("soda_scan_results.json"))
        redis = Redis.from_url(redis_url)
        try:
            assert await redis.xlen(keys.ALERT_STREAM) == 6
            assert await bot.incidents() == []
            await bot.restart(background=True)
            incidents = await eventually(lambda: _count(opened(bot), 2), what="both incidents opened")
            assert {i.title for i in incidents} == {
                "orders is stale",
                "Soda check failed: row_count > 10 on users (value 4)",
            }
            await eventually(lambda: _nothing_pending(redis), what="every entry acked")
        finally:
            await redis.aclose()
        assert len(incident_channels(bot)) == 2

    async def test_an_entry_a_crashed_consumer_held_is_reclaimed_by_a_later_bot(
        self, bot: BotUnderTest, redis_url: str
    ) -> None:
        """An alert consumed by a replica that died before acking is taken over and processed."""
        (key,) = await post_alerts(
            bot, "generic", generic_alert("orders-freshness", "orders", "orders is stale")
        )
        redis = Redis.from_url(redis_url)
        try:
            crashed = AlertInbox(redis)
            taken = await crashed.consume("crashed-replica", block_ms=None, count=10)
            assert [a.dedup_key for _, a in taken] == [key]
            # Nothing new is left for a fresh consumer: only a reclaim can find the alert now.
            assert await crashed.consume("someone-else", block_ms=None, count=10) == []
            await reconfigure(bot, background=True, reclaim_after="0.3s")
            (incident,) = await eventually(lambda: opened(bot), what="the reclaimed alert's incident")
            assert incident.title == "orders is stale"
            assert incident.alert_keys == [key]
            await eventually(lambda: _nothing_pending(redis), what="the reclaimed entry acked")
        finally:
            await redis.aclose()
        assert incident_channels(bot) == [incident.channel_id]
        assert await alert_entries(bot, incident.id) == []  # processed once: it opened the incident, no more

    async def test_notes_pending_when_the_bot_stops_are_announced_by_the_next_one(
        self, bot: BotUnderTest, redis_url: str
    ) -> None:
        """A bot stopped while it waits to announce a burst leaves the notes on the record; the next bot
        announces them, once."""
        await reconfigure(bot, background=True, announce_after="60s")
        await post_alerts(bot, "alertmanager", fixture_json("alertmanager_v4_firing.json"))
        (incident,) = await eventually(lambda: _with_notes(bot), what="the opened incident, a note pending")
        assert incident.channel_id is not None
        redis = Redis.from_url(redis_url)
        try:
            # Stop it while it waits out the burst (its claim to announce taken), not a moment before.
            claim = keys.once(f"alert-announce:{incident.id}")
            await eventually(lambda: redis.exists(claim), what="the announcer waiting")
        finally:
            await redis.aclose()
        assert announcements(bot, incident.channel_id) == []

        await reconfigure(bot, background=True)
        await eventually(lambda: settled(bot, incident), what="the pending note announced")
        (text,) = (m.text for m in announcements(bot, incident.channel_id))
        assert "Firing: user_daily not updated for 6h (alertmanager)" in text
        assert [i.id for i in await bot.incidents()] == [incident.id]


async def _with_notes(bot: BotUnderTest) -> list[Incident]:
    return [i for i in await opened(bot) if i.alert_notes]


class TestRateLimits:
    async def test_a_burst_across_incidents_under_rate_limits_is_queued_never_dropped(
        self, bot: BotUnderTest
    ) -> None:
        """With Slack's limits small, a burst opening eight incidents gets 429s; the bot waits them out and
        retries: every incident opens its channel, every alert is on its timeline and announced."""
        await reconfigure(bot, background=True)
        # Tier 2 (conversations.create, setTopic, pins.add) and 3 (invite, history): 4 a second, bursts of 2;
        # chat.postMessage: 2 a second per channel. Opening eight channels at once must meet 429s.
        bot.sb.configure_rate_limits(
            enabled=True,
            per_minute={"t2": 240, "t3": 240},
            burst={"t2": 2, "t3": 2},
            post_message_per_second=2,
            post_message_burst=2,
        )
        assets = [f"warehouse.table_{n}" for n in range(8)]
        sent = {asset: [f"{asset}/check-{k}" for k in range(3)] for asset in assets}
        async with httpx.AsyncClient(timeout=60) as client:
            await asyncio.gather(
                *(
                    post_alerts(bot, "generic", generic_alert(key, asset, f"{key} failed"), client)
                    for asset in assets
                    for key in sent[asset]
                )
            )

        incidents = await eventually(
            lambda: _count(opened(bot), 8), timeout=90, what="eight incidents opened"
        )
        await eventually(lambda: all_settled(bot, incidents), timeout=30, what="every alert announced")
        assert len(incident_channels(bot)) == 8
        for incident in incidents:
            (asset,) = incident.assets
            keys_ = sent[asset.name]
            assert sorted(incident.alert_keys) == sorted(keys_)
            opener = incident.alert_keys[0]
            assert sorted(await alert_entries(bot, incident.id)) == sorted(k for k in keys_ if k != opener)
        limited = [c for c in bot.sb.calls() if c.status == 429]
        assert limited, "the limits were never reached: the test proves nothing"
        for method in {c.method for c in limited}:
            assert bot.sb.calls(method, ok=True), f"{method} was refused and never retried"
        for method in ("conversations.create", "conversations.setTopic", "pins.add"):
            assert len(bot.sb.calls(method, ok=True)) == 8, method

    async def test_an_opening_refused_past_the_clients_retries_is_tried_again(
        self, bot: BotUnderTest
    ) -> None:
        """Six 429s in a row outlast the Slack client's five retries; the opening is tried again and the
        incident gets its channel, without waiting for another alert or a restart."""
        # Retry-After 0 keeps it quick: the client still waits 0 to 1 s before each of its retries.
        bot.sb.inject("conversations.create", "429", count=6, retry_after=0)
        await post_alerts(bot, "alertmanager", fixture_json("alertmanager_v4_firing.json"))
        await drain(bot)
        (incident,) = await opened(bot)
        assert await settled(bot, incident)
        creates = bot.sb.calls("conversations.create")
        assert [c.status for c in creates] == [429] * 6 + [200]
        assert incident_channels(bot) == [incident.channel_id]


async def _count(found: Awaitable[list[Incident]], n: int) -> list[Incident] | None:
    items = await found
    return items if len(items) == n else None


async def _nothing_pending(redis: Redis) -> bool:
    summary = await redis.xpending(keys.ALERT_STREAM, keys.ALERT_GROUP)
    return int(summary["pending"]) == 0
