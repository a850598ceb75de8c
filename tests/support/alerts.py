"""Alert scenarios: the bot with a source of each kind, payload builders, posting to its webhook, reading back."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from bot.config import HandoffConfig
from bot.domain.incident import Incident
from bot.domain.models import IncidentState
from bot.services.alerts import AlertService
from slack_sandbox import SlackSandbox
from slack_sandbox.models import Message
from tests.support.bot import BotUnderTest, Team, flush, make_team, team_config
from tests.support.reference import fixture

FIXTURES = fixture("alerts")

# Database 12 of the test Redis: these scenarios flush it, so they neither disturb nor are disturbed by a run of
# the other scenarios (database 1) going on at the same time.
ALERTS_DB = 12

AM_TOKEN = "am-token-123456"  # the alertmanager source of tests.support.bot.team_config
TOKENS = {
    "alertmanager": AM_TOKEN,
    "great_expectations": "gx-token-123456",
    "soda": "soda-token-123456",
    "generic": "generic-token-123456",
}

ANNOUNCEMENT = re.compile(r":bell: (\d+) alert update\(s\) for (INC-\d+)")
ALL_RESOLVED = "All of this incident's alerts are resolved"
GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def alerts_redis_url() -> str:
    base = os.environ["HANDOFF_TEST_REDIS_URL"].rsplit("/", 1)[0]
    return f"{base}/{ALERTS_DB}"


def alerts_config(team: Team, **alerts: Any) -> HandoffConfig:
    """The scenario config with a bearer source of every kind (named after it); `alerts` overrides the rest."""
    section: dict[str, Any] = {
        "announce_after": "0.2s",
        "sources": {
            name: {"kind": name, "auth": "bearer", "secret": token} for name, token in TOKENS.items()
        },
    }
    section.update(alerts)
    return team_config(team, alerts=section)


@contextlib.asynccontextmanager
async def serving(
    sb: SlackSandbox, redis_url: str, *, background: bool = False, **alerts: Any
) -> AsyncIterator[BotUnderTest]:
    """A bot on a flushed Redis with the alert sources; `background` also runs its alert consumer."""
    await flush(redis_url)
    team = make_team(sb)
    bot = BotUnderTest(sb=sb, team=team, config=alerts_config(team, **alerts), redis_url=redis_url)
    await bot.start(background)
    try:
        yield bot
    finally:
        await bot.stop()


async def reconfigure(bot: BotUnderTest, *, background: bool, **alerts: Any) -> BotUnderTest:
    """Restart the bot (same Redis, same workspace) with other alert settings."""
    bot.config = alerts_config(bot.team, **alerts)
    return await bot.restart(background)


def service(bot: BotUnderTest) -> AlertService:
    found = bot.bot.alerts
    assert isinstance(found, AlertService)
    return found


# --- Payloads -------------------------------------------------------------------------------------------


def fixture_json(name: str) -> Any:
    path = FIXTURES / name
    if not path.exists():
        pytest.fail(f"recorded payload {path} is missing: see tests/fixtures/NOTICE.md")
    return json.loads(path.read_text())


def as_resolved(payload: dict[str, Any], fingerprints: Sequence[str] | None = None) -> dict[str, Any]:
    """The notification Alertmanager sends when these alerts (default: all of them) resolve."""
    out = copy.deepcopy(payload)
    for alert in out["alerts"]:
        if fingerprints is None or alert["fingerprint"] in fingerprints:
            alert["status"] = "resolved"
            alert["endsAt"] = "2026-11-28T16:10:00Z"
    out["status"] = "resolved" if all(a["status"] == "resolved" for a in out["alerts"]) else "firing"
    return out


def as_firing(payload: dict[str, Any]) -> dict[str, Any]:
    """The notification Alertmanager sent while these alerts were still firing."""
    out = copy.deepcopy(payload)
    for alert in out["alerts"]:
        alert["status"] = "firing"
        alert["endsAt"] = GO_ZERO_TIME
    out["status"] = "firing"
    return out


def am_alert(
    fingerprint: str, labels: dict[str, str], summary: str, *, firing: bool = True
) -> dict[str, Any]:
    return {
        "status": "firing" if firing else "resolved",
        "labels": labels,
        "annotations": {"summary": summary},
        "startsAt": "2026-11-28T15:44:56Z",
        "endsAt": GO_ZERO_TIME if firing else "2026-11-28T16:10:00Z",
        "generatorURL": "",
        "fingerprint": fingerprint,
    }


def am_webhook(alerts: list[dict[str, Any]], group_key: str = "{}:{}") -> dict[str, Any]:
    """An Alertmanager version-4 webhook body carrying `alerts`."""
    return {
        "receiver": "handoff",
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "alerts": alerts,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
    }


def generic_alert(
    dedup_key: str, asset: str, summary: str | None = None, *, firing: bool = True
) -> dict[str, Any]:
    """A generic-format alert on the table `asset`."""
    return {
        "dedup_key": dedup_key,
        "status": "firing" if firing else "resolved",
        "summary": summary or f"{dedup_key} on {asset}",
        "severity": "sev3",
        "assets": [{"kind": "table", "name": asset}],
    }


# --- Talking to the bot ---------------------------------------------------------------------------------


def webhook_url(bot: BotUnderTest, source: str) -> str:
    assert bot.server is not None
    return f"{bot.server.base_url}/alerts/{source}"


async def post_alerts(
    bot: BotUnderTest, source: str, payload: Any, client: httpx.AsyncClient | None = None
) -> list[str]:
    """POST a payload to `/alerts/{source}` as the source would; asserts the 202, returns the dedup keys."""
    headers = {"Authorization": f"Bearer {TOKENS[source]}", "Content-Type": "application/json"}
    body = json.dumps(payload).encode()
    if client is None:
        async with httpx.AsyncClient(timeout=30) as own:
            response = await own.post(webhook_url(bot, source), content=body, headers=headers)
    else:
        response = await client.post(webhook_url(bot, source), content=body, headers=headers)
    assert response.status_code == 202, response.text
    keys = list(response.json()["alerts"])
    assert response.json()["accepted"] == len(keys)
    return keys


# --- Reading the outcome --------------------------------------------------------------------------------


def incident_channels(bot: BotUnderTest) -> list[str]:
    return [c.id for c in bot.sb.channels() if c.name.startswith("inc-")]


def announcements(bot: BotUnderTest, channel_id: str) -> list[Message]:
    """The bot's alert-update messages in an incident channel, oldest first."""
    return [m for m in bot.messages(channel_id) if ANNOUNCEMENT.search(m.text)]


def announced_count(bot: BotUnderTest, channel_id: str) -> int:
    """How many alert updates the channel's announcements add up to."""
    counts = (ANNOUNCEMENT.search(m.text) for m in announcements(bot, channel_id))
    return sum(int(found.group(1)) for found in counts if found is not None)


async def alert_entries(bot: BotUnderTest, incident_id: str) -> list[str]:
    """The dedup keys of the alerts attached to an incident, one per timeline entry, in order."""
    timeline = await bot.bot.store.timeline(incident_id)
    return [e.data["dedup_key"] for e in timeline if e.kind == "alert"]


async def opened(bot: BotUnderTest) -> list[Incident]:
    """The active incidents whose opening is complete: channel, invitations, card, checklists, and the move
    to investigating (a write of its own, after the others)."""
    return [
        i
        for i in await bot.incidents()
        if i.opening.done and i.channel_id and i.state is not IncidentState.OPEN
    ]


async def settled(bot: BotUnderTest, incident: Incident) -> bool:
    """Every alert note of the incident has been announced in its channel."""
    current = await bot.bot.store.get(incident.id)
    if current.alert_notes or current.channel_id is None:
        return False
    return announced_count(bot, current.channel_id) == len(await alert_entries(bot, incident.id))


async def all_settled(bot: BotUnderTest, incidents: Sequence[Incident]) -> bool:
    for incident in incidents:
        if not await settled(bot, incident):
            return False
    return True
