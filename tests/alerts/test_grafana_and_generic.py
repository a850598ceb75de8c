"""Grafana's webhook signed with HMAC (with and without its timestamp header), and the generic format."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from bot.alerts.auth import sign
from bot.domain.alerts import AlertStatus
from bot.domain.models import Asset, AssetKind, Severity, Side
from bot.store.alert_inbox import AlertInbox
from tests.alerts.conftest import GENERIC_SECRET, GRAFANA_SECRET


def grafana_payload() -> dict[str, Any]:
    """A Grafana unified-alerting webhook body, following the documented example of the webhook notifier."""
    return {
        "receiver": "handoff",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "EndpointLatencyHigh", "endpoint": "churn-v2", "severity": "page"},
                "annotations": {"summary": "p99 over 800 ms", "description": "latency budget exceeded"},
                "startsAt": "2026-11-28T15:00:00.157076+02:00",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://grafana.example/alerting/grafana/abc/view",
                "fingerprint": "c6eadffa33fcdf37",
                "silenceURL": "https://grafana.example/alerting/silence/new?matchers=alertname%3DX",
                "dashboardURL": "https://grafana.example/d/dash",
                "panelURL": "https://grafana.example/d/dash?viewPanel=2",
                "values": {"B": 912.5, "C": 1},
                "valueString": "[ var='B' labels={} value=912.5 ]",
            },
            {
                "status": "resolved",
                "labels": {"alertname": "RowCountLow", "table": "features.users", "team": "data-platform"},
                "annotations": {"summary": "row count back"},
                "startsAt": "2026-11-28T14:00:00Z",
                "endsAt": "2026-11-28T14:30:00Z",
                "generatorURL": "",
                "fingerprint": "bc97ff14869b13e3",
                "silenceURL": "",
                "dashboardURL": "",
                "panelURL": "",
                "values": None,
                "valueString": "",
            },
        ],
        "groupLabels": {"alertname": "EndpointLatencyHigh"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "https://grafana.example/",
        "version": "1",
        "groupKey": '{}/{}:{alertname="EndpointLatencyHigh"}',
        "truncatedAlerts": 0,
        "title": "[FIRING:1, RESOLVED:1] (EndpointLatencyHigh)",
        "state": "alerting",
        "message": "**Firing**\n\nValue: B=912.5",
    }


class TestGrafana:
    async def test_signature_of_the_body(self, client: httpx.AsyncClient, inbox: AlertInbox) -> None:
        """X-Grafana-Alerting-Signature: hex HMAC-SHA256 of the raw body, no timestamp header."""
        body = json.dumps(grafana_payload()).encode()
        headers = {"X-Grafana-Alerting-Signature": sign(GRAFANA_SECRET, body)}
        response = await client.post("/alerts/grafana", content=body, headers=headers)
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": 2, "alerts": ["c6eadffa33fcdf37", "bc97ff14869b13e3"]}
        (_, firing), (_, resolved) = await inbox.consume("test", None, 10)
        assert firing.source == "grafana"
        assert firing.status is AlertStatus.FIRING
        assert firing.severity is Severity.SEV1  # severity=page
        assert firing.assets == (Asset(kind=AssetKind.ENDPOINT, name="churn-v2"),)
        assert firing.side_hint is Side.MLOPS  # alertname mentions an endpoint
        assert firing.summary == "p99 over 800 ms"
        assert firing.url == "https://grafana.example/d/dash?viewPanel=2"  # the panel first
        assert firing.details["values"] == '{"B":912.5,"C":1}'
        assert firing.details["value_string"] == "[ var='B' labels={} value=912.5 ]"
        assert firing.details["silence_url"].startswith("https://grafana.example/alerting/silence/new")
        assert firing.details["org_id"] == "1"
        assert firing.details["title"] == "[FIRING:1, RESOLVED:1] (EndpointLatencyHigh)"
        assert firing.details["state"] == "alerting"
        assert firing.group_key == '{}/{}:{alertname="EndpointLatencyHigh"}'
        assert resolved.status is AlertStatus.RESOLVED
        assert resolved.ends_at is not None
        assert resolved.ends_at.minute == 30
        assert resolved.assets == (Asset(kind=AssetKind.TABLE, name="features.users"),)
        assert resolved.side_hint is Side.DATAOPS  # team=data-platform
        assert resolved.severity is Severity.SEV3  # no severity label: the source default
        assert resolved.url is None

    async def test_signature_with_timestamp(self, client: httpx.AsyncClient) -> None:
        """With X-Grafana-Alerting-Signature-Timestamp the signed content is `timestamp:body`."""
        body = json.dumps(grafana_payload()).encode()
        ts = str(int(time.time()))
        headers = {
            "X-Grafana-Alerting-Signature": sign(GRAFANA_SECRET, body, ts),
            "X-Grafana-Alerting-Signature-Timestamp": ts,
        }
        assert (await client.post("/alerts/grafana", content=body, headers=headers)).status_code == 202
        # The body-only signature is not enough once a timestamp is sent: it must be inside the HMAC.
        headers["X-Grafana-Alerting-Signature"] = sign(GRAFANA_SECRET, body)
        assert (await client.post("/alerts/grafana", content=body, headers=headers)).status_code == 401

    async def test_stale_timestamp_is_refused(self, client: httpx.AsyncClient) -> None:
        """A correctly signed request with a timestamp 10 minutes old is a replay: 401."""
        body = json.dumps(grafana_payload()).encode()
        ts = str(int(time.time()) - 600)
        headers = {
            "X-Grafana-Alerting-Signature": sign(GRAFANA_SECRET, body, ts),
            "X-Grafana-Alerting-Signature-Timestamp": ts,
        }
        response = await client.post("/alerts/grafana", content=body, headers=headers)
        assert response.status_code == 401

    async def test_wrong_hmac_is_refused(self, client: httpx.AsyncClient) -> None:
        """A signature with another secret, or over another body, is refused; the right one is accepted."""
        body = json.dumps(grafana_payload()).encode()
        good = {"X-Grafana-Alerting-Signature": sign(GRAFANA_SECRET, body)}
        assert (await client.post("/alerts/grafana", content=body, headers=good)).status_code == 202
        other_secret = {"X-Grafana-Alerting-Signature": sign("not-the-secret", body)}
        assert (await client.post("/alerts/grafana", content=body, headers=other_secret)).status_code == 401
        tampered = body.replace(b"912.5", b"1.0")
        assert (await client.post("/alerts/grafana", content=tampered, headers=good)).status_code == 401


def generic_headers(body: bytes) -> dict[str, str]:
    return {"X-Handoff-Signature": "sha256=" + sign(GENERIC_SECRET, body), "Content-Type": "application/json"}


class TestGeneric:
    async def test_one_alert(self, client: httpx.AsyncClient, inbox: AlertInbox) -> None:
        """Explicit severity, assets and side win; labels still add assets; unknown fields land in details."""
        alert = {
            "dedup_key": "churn/volume",
            "status": "firing",
            "summary": "prediction volume down 80%",
            "severity": "sev2",
            "labels": {"model": "churn-model", "replicas": 3, "canary": True},
            "annotations": {"runbook_url": "https://runbooks/volume"},
            "assets": [{"kind": "endpoint", "name": "churn-v2"}],
            "side": "dataops",
            "url": "https://monitoring/churn",
            "starts_at": "2026-11-28T15:00:00Z",
            "ticket": "OPS-12",
        }
        body = json.dumps(alert).encode()
        response = await client.post("/alerts/generic", content=body, headers=generic_headers(body))
        assert response.status_code == 202, response.text
        ((_, got),) = await inbox.consume("test", None, 10)
        assert got.source == "generic"
        assert got.dedup_key == "churn/volume"
        assert got.severity is Severity.SEV2
        assert got.side_hint is Side.DATAOPS
        assert got.assets == (
            Asset(kind=AssetKind.ENDPOINT, name="churn-v2"),
            Asset(kind=AssetKind.MODEL, name="churn-model"),
        )
        assert got.labels == {"model": "churn-model", "replicas": "3", "canary": "true"}
        assert got.annotations == {"runbook_url": "https://runbooks/volume"}
        assert got.url == "https://monitoring/churn"
        assert got.details == {"ticket": "OPS-12"}

    async def test_batch(self, client: httpx.AsyncClient, inbox: AlertInbox) -> None:
        """`{"alerts": [...]}` persists every alert; severity from a label when none is given."""
        batch = {
            "alerts": [
                {"dedup_key": "a", "status": "firing", "summary": "A", "labels": {"severity": "P2"}},
                {"dedup_key": "b", "status": "resolved", "summary": "B", "labels": {"dag_id": "load_users"}},
            ]
        }
        body = json.dumps(batch).encode()
        response = await client.post("/alerts/generic", content=body, headers=generic_headers(body))
        assert response.json() == {"accepted": 2, "alerts": ["a", "b"]}
        (_, a), (_, b) = await inbox.consume("test", None, 10)
        assert a.severity is Severity.SEV2
        assert b.status is AlertStatus.RESOLVED
        assert b.assets == (Asset(kind=AssetKind.JOB, name="load_users"),)
        assert b.side_hint is Side.DATAOPS
