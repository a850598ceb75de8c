"""A real Prometheus Alertmanager sending to the running bot: groups become incidents, re-firing and resolving
land on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.domain.incident import Incident
from bot.domain.models import Asset, AssetKind, IncidentState
from slack_sandbox import SlackSandbox
from tests.support.alertmanager import Alertmanager, api_alert
from tests.support.alerts import (
    ALL_RESOLVED,
    AM_TOKEN,
    alert_entries,
    alerts_redis_url,
    announcements,
    incident_channels,
    opened,
    serving,
    settled,
    webhook_url,
)
from tests.support.bot import BotUnderTest, eventually

DELIVERY = 30.0  # seconds to wait for a notification: about 1 s here, much more is a failure worth reading


@pytest.fixture
def redis_url() -> str:
    return alerts_redis_url()


@pytest.fixture
async def bot(sb: SlackSandbox, redis_url: str) -> AsyncIterator[BotUnderTest]:
    """The bot with its alert consumer running, reachable over HTTP on 127.0.0.1."""
    async with serving(sb, redis_url, background=True) as under_test:
        yield under_test


@pytest.fixture
def alertmanager(bot: BotUnderTest) -> Iterator[Alertmanager]:
    """Alertmanager grouping by alertname and model, its webhook receiver the bot's alertmanager source."""
    am = Alertmanager(webhook_url=webhook_url(bot, "alertmanager"), token=AM_TOKEN)
    try:
        yield am.start()
    finally:
        am.stop()


def drift(
    model: str, instance: str, summary: str | None = None, *, resolved: bool = False
) -> dict[str, object]:
    labels = {
        "alertname": "PredictionDrift",
        "model": model,
        "instance": instance,
        "severity": "critical",
        "team": "mlops",
    }
    return api_alert(labels, summary or f"{model} drifting on {instance}", resolved=resolved)


async def fingerprints(am: Alertmanager, model: str) -> list[str]:
    return sorted(a["fingerprint"] for a in await am.alerts() if a["labels"].get("model") == model)


async def incident_on(bot: BotUnderTest, model: str, n_keys: int) -> Incident | None:
    """The opened incident on `model` once it holds `n_keys` alert keys."""
    asset = Asset(kind=AssetKind.MODEL, name=model)
    for incident in await opened(bot):
        if incident.assets == [asset] and len(incident.alert_keys) == n_keys:
            return incident
    return None


class TestAlertmanager:
    async def test_each_group_opens_one_incident_and_a_refire_adds_to_it(
        self, bot: BotUnderTest, alertmanager: Alertmanager
    ) -> None:
        """Two groups of alerts posted to Alertmanager's API: one incident and one channel per group. Posting
        them again with one more alert in a group adds to that group's incident, opening nothing."""
        await alertmanager.post(
            drift("churn-model", "a"), drift("churn-model", "b"), drift("fraud-model", "a")
        )
        churn = await eventually(
            lambda: incident_on(bot, "churn-model", 2), DELIVERY, "the churn group's incident"
        )
        fraud = await eventually(
            lambda: incident_on(bot, "fraud-model", 1), DELIVERY, "the fraud group's incident"
        )
        assert sorted(churn.alert_keys) == await fingerprints(alertmanager, "churn-model")
        assert fraud.alert_keys == await fingerprints(alertmanager, "fraud-model")
        assert churn.title in ("churn-model drifting on a", "churn-model drifting on b")
        assert churn.severity.value == "sev2"
        assert churn.state is IncidentState.INVESTIGATING
        assert len(await bot.incidents()) == 2
        assert sorted(incident_channels(bot)) == sorted([churn.channel_id, fraud.channel_id])

        await alertmanager.post(
            drift("churn-model", "a"),
            drift("churn-model", "b"),
            drift("churn-model", "c", "churn-model on c too"),
        )
        grown = await eventually(
            lambda: incident_on(bot, "churn-model", 3), DELIVERY, "the third alert added"
        )
        assert grown.id == churn.id
        assert sorted(grown.alert_keys) == await fingerprints(alertmanager, "churn-model")
        assert sorted(grown.alerts_firing) == sorted(grown.alert_keys)
        await eventually(lambda: settled(bot, grown), DELIVERY, "the re-fired group announced")
        assert grown.channel_id is not None
        assert "Firing: churn-model on c too (alertmanager)" in "\n".join(
            m.text for m in announcements(bot, grown.channel_id)
        )
        assert len(await bot.incidents()) == 2
        assert len(incident_channels(bot)) == 2

    async def test_resolving_is_noted_and_firing_again_returns_to_the_same_incident(
        self, bot: BotUnderTest, alertmanager: Alertmanager
    ) -> None:
        """An alert resolved at Alertmanager (endsAt in the past) is noted in the incident's channel with
        "all resolved", the incident stays open; the alert firing again lands on the same incident."""
        await alertmanager.post(drift("churn-model", "a"))
        incident = await eventually(lambda: incident_on(bot, "churn-model", 1), DELIVERY, "the incident")
        assert incident.channel_id is not None
        (key,) = incident.alert_keys

        await alertmanager.post(drift("churn-model", "a", resolved=True))

        async def resolved() -> Incident | None:
            current = await bot.bot.store.get(incident.id)
            return current if not current.alerts_firing and await settled(bot, current) else None

        current = await eventually(resolved, DELIVERY, "the resolution noted")
        (text,) = (m.text for m in announcements(bot, incident.channel_id))
        assert "Resolved: churn-model drifting on a (alertmanager)" in text
        assert ALL_RESOLVED in text
        assert current.state is IncidentState.INVESTIGATING
        assert current.active

        await alertmanager.post(drift("churn-model", "a", "churn-model drifting again"))

        async def firing_again() -> Incident | None:
            current = await bot.bot.store.get(incident.id)
            return current if current.alerts_firing == [key] and await settled(bot, current) else None

        current = await eventually(firing_again, DELIVERY, "the alert firing again")
        assert await alert_entries(bot, incident.id) == [key, key]
        last = announcements(bot, incident.channel_id)[-1].text
        assert "Firing: churn-model drifting again (alertmanager)" in last
        assert ALL_RESOLVED not in last
        assert [i.id for i in await bot.incidents()] == [incident.id]
        assert incident_channels(bot) == [incident.channel_id]
