"""The demo's workspace: its people on both sides, the bot's config for them, and the alert that starts it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import HandoffConfig
from bot.demo.scenarios import Scenario
from bot.domain.models import Side
from slack_sandbox import SlackSandbox

PLAYBOOKS = Path(__file__).parent / "playbooks"
ALERT_TOKEN = "demo-alertmanager-token"


@dataclass
class DemoTeam:
    ml: list[str]
    data: list[str]
    ml_lead: str
    data_lead: str

    def responder(self, side: Side) -> str:
        return self.ml[0] if side is Side.MLOPS else self.data[0]


def seed_team(sb: SlackSandbox) -> DemoTeam:
    """MLOps and DataOps responders (one listed, one through a user group) and a lead on each side."""
    maya, milo = sb.add_user("maya", real_name="Maya (MLOps)"), sb.add_user("milo", real_name="Milo (MLOps)")
    dana, dev = sb.add_user("dana", real_name="Dana (DataOps)"), sb.add_user("dev", real_name="Dev (DataOps)")
    mona, dirk = (
        sb.add_user("mona", real_name="Mona (MLOps lead)"),
        sb.add_user("dirk", real_name="Dirk (DataOps lead)"),
    )
    sb.add_usergroup("mlops-oncall", [milo])
    sb.add_usergroup("dataops-oncall", [dev])
    sb.add_channel("general", members=[maya, milo, dana, dev, mona, dirk], is_general=True)
    return DemoTeam(ml=[maya.id, milo.id], data=[dana.id, dev.id], ml_lead=mona.id, data_lead=dirk.id)


def demo_config(sb: SlackSandbox, team: DemoTeam) -> HandoffConfig:
    groups = {g.handle: g.id for g in sb.usergroups()}
    triage = sb.add_channel("ml-triage", members=[team.ml_lead, team.data_lead, sb.bot_user_id]).id
    return HandoffConfig.model_validate(
        {
            "sides": {
                "mlops": {
                    "users": [team.ml[0]],
                    "usergroups": [groups["mlops-oncall"]],
                    "leads": [team.ml_lead],
                },
                "dataops": {
                    "users": [team.data[0]],
                    "usergroups": [groups["dataops-oncall"]],
                    "leads": [team.data_lead],
                },
            },
            "triage_channel": triage,
            "alerts": {
                "announce_after": "1s",
                "sources": {
                    "alertmanager": {"kind": "alertmanager", "auth": "bearer", "secret": ALERT_TOKEN}
                },
            },
            "playbooks": {"folders": [str(PLAYBOOKS)], "builtin": True},
        }
    )


def alert_payload(scenario: Scenario, now: datetime) -> dict[str, Any]:
    labels = {"alertname": scenario.alertname, **scenario.labels}
    fingerprint = secrets.token_hex(8)
    return {
        "receiver": "handoff",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": scenario.summary,
                    "runbook_url": "https://runbooks.example.com/drift",
                },
                "startsAt": now.isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.com/graph",
                "fingerprint": fingerprint,
            }
        ],
        "groupLabels": {"alertname": scenario.alertname},
        "commonLabels": labels,
        "commonAnnotations": {"summary": scenario.summary},
        "externalURL": "http://alertmanager.example.com",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{scenario.alertname}"}}',
        "truncatedAlerts": 0,
    }
