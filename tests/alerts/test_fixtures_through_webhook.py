"""Each recorded payload posted through the real ASGI app, then read back from the inbox field by field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import httpx

from bot.domain.alerts import Alert, AlertStatus
from bot.domain.models import Asset, AssetKind, Severity, Side
from bot.store.alert_inbox import AlertInbox
from tests.alerts.conftest import AM_TOKEN, GX_TOKEN, SODA_TOKEN, bearer, fixture_bytes, fixture_json


async def post_and_read(
    client: httpx.AsyncClient, inbox: AlertInbox, source: str, body: bytes, token: str
) -> list[Alert]:
    response = await client.post(f"/alerts/{source}", content=body, headers=bearer(token))
    assert response.status_code == 202, response.text
    entries = await inbox.consume("test", block_ms=None, count=100)
    alerts = [alert for _, alert in entries]
    assert response.json() == {"accepted": len(alerts), "alerts": [a.dedup_key for a in alerts]}
    return alerts


class TestAlertmanager:
    async def test_firing_fixture_gives_one_alert_per_element(
        self, client: httpx.AsyncClient, inbox: AlertInbox
    ) -> None:
        """Two firing alerts: fingerprint dedup keys, critical -> SEV2, dataset -> table, team -> DataOps."""
        alerts = await post_and_read(
            client, inbox, "am", fixture_bytes("alertmanager_v4_firing.json"), AM_TOKEN
        )
        assert [a.dedup_key for a in alerts] == ["3cfe9cef39bf3d2d", "b75df3909fef4622"]
        first, second = alerts
        group_key = '{}:{alertname="FeatureTableStale", dataset="features.user_daily", team="dataops"}'
        for a in alerts:
            assert a.source == "alertmanager"
            assert a.source_name == "am"
            assert a.received_at is not None
            assert a.status is AlertStatus.FIRING
            assert a.severity is Severity.SEV2
            assert a.assets == (Asset(kind=AssetKind.TABLE, name="features.user_daily"),)
            assert a.side_hint is Side.DATAOPS
            assert a.group_key == group_key
            assert a.starts_at == datetime(2026, 11, 28, 15, 44, 56, tzinfo=UTC)
            assert a.ends_at is None  # Go's zero time means "not set"
            assert a.details["receiver"] == "incident-bot"
            assert a.details["external_url"] == "http://vm:9093"
        assert first.labels == {
            "alertname": "FeatureTableStale",
            "dataset": "features.user_daily",
            "instance": "wh-2",
            "severity": "critical",
            "team": "dataops",
        }
        assert first.summary == "replica too"
        assert first.url is None  # empty generatorURL
        assert second.annotations == {
            "runbook_url": "https://runbooks/freshness",
            "summary": "user_daily not updated for 6h",
        }
        assert second.summary == "user_daily not updated for 6h"
        assert second.url == "http://prometheus:9090/graph?g0.expr=x"

    async def test_resolved_fixture_is_resolved_with_its_end(
        self, client: httpx.AsyncClient, inbox: AlertInbox
    ) -> None:
        """status=resolved with endsAt: RESOLVED and ends_at; warning -> SEV3; model -> model; MLOps."""
        (alert,) = await post_and_read(
            client, inbox, "am", fixture_bytes("alertmanager_v4_resolved.json"), AM_TOKEN
        )
        assert alert.dedup_key == "97e59d401749832a"
        assert alert.status is AlertStatus.RESOLVED
        assert alert.ends_at == datetime(2026, 11, 28, 15, 45, 3, tzinfo=UTC)
        assert alert.severity is Severity.SEV3
        assert alert.assets == (Asset(kind=AssetKind.MODEL, name="churn-model"),)
        assert alert.side_hint is Side.MLOPS
        assert alert.labels["alertname"] == "PredictionDrift"
        assert alert.summary == "PSI back to 0.05"
        assert alert.group_key == '{}:{alertname="PredictionDrift", team="mlops"}'

    async def test_prometheus_rule_alert(self, client: httpx.AsyncClient, inbox: AlertInbox) -> None:
        """An alert raised by a Prometheus rule: generator URL kept as the url, serving model on MLOps."""
        (alert,) = await post_and_read(
            client, inbox, "am", fixture_bytes("alertmanager_v4_from_prometheus.json"), AM_TOKEN
        )
        assert alert.dedup_key == "222f766c8f38308c"
        assert alert.status is AlertStatus.FIRING
        assert alert.severity is Severity.SEV2
        assert alert.assets == (Asset(kind=AssetKind.MODEL, name="churn-model"),)
        assert alert.side_hint is Side.MLOPS
        assert alert.url == "http://vm:9090/graph?g0.expr=vector%281%29+%3E+0&g0.tab=1"
        assert alert.starts_at == datetime(2026, 11, 28, 15, 51, 4, 679000, tzinfo=UTC)
        assert alert.annotations["runbook_url"] == "https://runbooks/serving"

    async def test_no_alerts(self, client: httpx.AsyncClient, inbox: AlertInbox) -> None:
        """A notification with an empty `alerts` list is accepted and persists nothing."""
        data = fixture_json("alertmanager_v4_firing.json") | {"alerts": []}
        assert await post_and_read(client, inbox, "am", json.dumps(data).encode(), AM_TOKEN) == []

    async def test_unknown_fields_are_kept(self, client: httpx.AsyncClient, inbox: AlertInbox) -> None:
        """Fields Alertmanager may add later are kept in details, for the webhook and for each alert."""
        data = fixture_json("alertmanager_v4_from_prometheus.json")
        data["newTopLevel"] = "x"
        data["alerts"][0]["newAlertField"] = {"a": 1}
        (alert,) = await post_and_read(client, inbox, "am", json.dumps(data).encode(), AM_TOKEN)
        assert alert.details["webhook.newTopLevel"] == "x"
        assert alert.details["newAlertField"] == '{"a":1}'


GX_KEYS_VALIDATION = [
    "expect_column_values_to_be_unique",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_between",
]


class TestGreatExpectations:
    async def test_validation_result_gives_one_alert_per_failed_expectation(
        self, client: httpx.AsyncClient, inbox: AlertInbox
    ) -> None:
        """Three failed expectations (the passing one is skipped): table asset, DataOps, failed -> SEV3."""
        alerts = await post_and_read(
            client, inbox, "gx", fixture_bytes("gx_validation_result.json"), GX_TOKEN
        )
        assert [a.labels["expectation_type"] for a in alerts] == GX_KEYS_VALIDATION
        assert [a.labels["column"] for a in alerts] == ["user_id", "country", "tenure_days"]
        for a in alerts:
            assert a.source == "great_expectations"
            assert a.dedup_key.startswith("gx:")
            assert a.status is AlertStatus.FIRING
            assert a.severity is Severity.SEV3
            assert a.assets == (Asset(kind=AssetKind.TABLE, name="user_features"),)
            assert a.side_hint is Side.DATAOPS
            assert a.labels["suite"] == "user_features_suite"
            assert a.labels["data_asset"] == "user_features"
            assert a.labels["datasource"] == "pandas"
            assert a.labels["gx_severity"] == "critical"
            assert a.starts_at == datetime(2026, 11, 28, 15, 49, 5, 278131, tzinfo=UTC)
            assert a.details["validation_id"] == "dfb657c2-e652-487b-bc9c-4d17cd81e378"
        assert len({a.dedup_key for a in alerts}) == 3
        unique = alerts[0]
        assert unique.summary == (
            "expect_column_values_to_be_unique failed on user_features.user_id: "
            "2 of 4 values unexpected (50.0%)"
        )
        assert json.loads(unique.annotations["result"])["partial_unexpected_list"] == [3, 3]
        assert json.loads(unique.annotations["kwargs"]) == {
            "batch_id": "pandas-user_features",
            "column": "user_id",
        }
        assert unique.details["expectation_id"] == "bfa39e3a-25c5-4c97-bb44-24d17f2c1cd9"

    async def test_checkpoint_description_gives_one_alert_per_failed_expectation(
        self, client: httpx.AsyncClient, inbox: AlertInbox
    ) -> None:
        """describe() carries no suite or asset name: the data asset comes from the batch id."""
        alerts = await post_and_read(
            client, inbox, "gx", fixture_bytes("gx_checkpoint_describe.json"), GX_TOKEN
        )
        assert [a.labels["expectation_type"] for a in alerts] == GX_KEYS_VALIDATION
        for a in alerts:
            assert a.assets == (Asset(kind=AssetKind.TABLE, name="user_features"),)
            assert a.labels["data_asset"] == "user_features"
            assert "suite" not in a.labels
            assert a.severity is Severity.SEV3
            assert a.side_hint is Side.DATAOPS
            assert a.details["batch_id"] == "pandas-user_features"
        assert json.loads(alerts[2].annotations["kwargs"])["max_value"] == 10000.0

    async def test_checkpoint_result_reads_each_validation(
        self, client: httpx.AsyncClient, inbox: AlertInbox
    ) -> None:
        """A checkpoint result's `run_results` give the same alerts as each validation result posted alone."""
        alone = await post_and_read(client, inbox, "gx", fixture_bytes("gx_validation_result.json"), GX_TOKEN)
        checkpoint = {"success": False, "run_results": {"run-1": fixture_json("gx_validation_result.json")}}
        via = await post_and_read(client, inbox, "gx", json.dumps(checkpoint).encode(), GX_TOKEN)
        assert [a.dedup_key for a in via] == [a.dedup_key for a in alone]
        assert all(a.details["checkpoint_run"] == "run-1" for a in via)

    async def test_unknown_shape_is_refused(self, client: httpx.AsyncClient) -> None:
        """A body with none of the GX shapes is a 422 about the body."""
        response = await client.post("/alerts/gx", json={"success": False}, headers=bearer(GX_TOKEN))
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "(body)"

    async def test_dedup_keys_are_stable_across_runs(
        self, client: httpx.AsyncClient, inbox: AlertInbox
    ) -> None:
        """A second run of the same suite (new ids, times and counts) gives the same dedup keys."""
        first = await post_and_read(client, inbox, "gx", fixture_bytes("gx_validation_result.json"), GX_TOKEN)
        rerun = copy.deepcopy(fixture_json("gx_validation_result.json"))
        rerun["meta"]["validation_id"] = "another-run"
        rerun["meta"]["run_id"]["run_time"] = "2026-11-29T09:00:00+00:00"
        rerun["meta"]["validation_time"] = "2026-11-29T09:00:00+00:00"
        for result in rerun["results"]:
            result["result"]["unexpected_count"] = 99
        second = await post_and_read(client, inbox, "gx", json.dumps(rerun).encode(), GX_TOKEN)
        assert [a.dedup_key for a in second] == [a.dedup_key for a in first]
        described = await post_and_read(
            client, inbox, "gx", fixture_bytes("gx_checkpoint_describe.json"), GX_TOKEN
        )
        again = await post_and_read(
            client, inbox, "gx", fixture_bytes("gx_checkpoint_describe.json"), GX_TOKEN
        )
        assert [a.dedup_key for a in again] == [a.dedup_key for a in described]

    async def test_warning_expectation_is_a_warned_check(
        self, client: httpx.AsyncClient, inbox: AlertInbox
    ) -> None:
        """An expectation of severity `warning` gets the warn severity (SEV4); a meta `severity` wins."""
        data = fixture_json("gx_validation_result.json")
        data["results"][0]["expectation_config"]["severity"] = "warning"
        data["results"][1]["expectation_config"]["meta"] = {"severity": "sev1", "team": "mlops"}
        alerts = await post_and_read(client, inbox, "gx", json.dumps(data).encode(), GX_TOKEN)
        assert [a.severity for a in alerts] == [Severity.SEV4, Severity.SEV1, Severity.SEV3]
        assert alerts[1].side_hint is Side.MLOPS  # the team label wins over the source's default side


class TestSoda:
    async def test_scan_gives_one_alert_per_failed_check(
        self, client: httpx.AsyncClient, inbox: AlertInbox
    ) -> None:
        """Five failed checks: `soda:<identity>`, table users, DataOps, SEV3, check fields kept as labels."""
        alerts = await post_and_read(
            client, inbox, "soda", fixture_bytes("soda_scan_results.json"), SODA_TOKEN
        )
        assert [a.dedup_key for a in alerts] == [
            "soda:98e719ed",
            "soda:7f0f37fa",
            "soda:764c7b17",
            "soda:df1183d8",
            "soda:31789e1f",
        ]
        for a in alerts:
            assert a.source == "soda"
            assert a.status is AlertStatus.FIRING
            assert a.severity is Severity.SEV3
            assert a.assets == (Asset(kind=AssetKind.TABLE, name="users"),)
            assert a.side_hint is Side.DATAOPS
            assert a.labels["scan"] == "users_daily_scan"
            assert a.labels["data_source"] == "demo"
            assert a.labels["outcome"] == "fail"
            assert a.starts_at == datetime(2026, 11, 28, 15, 56, 40, tzinfo=UTC)
        row_count, schema, missing, duplicate, freshness = alerts
        assert row_count.summary == "Soda check failed: row_count > 10 on users (value 4)"
        assert row_count.details["location"] == "sodacl_string.yml:3:5"
        assert "column" not in row_count.labels
        assert missing.labels["column"] == "country"
        assert duplicate.labels["check"] == "duplicate_count(user_id) = 0"
        assert json.loads(schema.annotations["diagnostics"])["missing_column_names"] == ["email"]
        assert freshness.annotations["definition"] == "checks for users:\n  freshness(loaded_at) < 6h"

    async def test_warned_and_passed_checks(self, client: httpx.AsyncClient, inbox: AlertInbox) -> None:
        """warn -> the warn severity (SEV4); pass and not-evaluated checks raise nothing."""
        data = fixture_json("soda_scan_results.json")
        data["checks"][0]["outcome"] = "warn"
        data["checks"][1]["outcome"] = "pass"
        data["checks"][2]["outcome"] = None
        alerts = await post_and_read(client, inbox, "soda", json.dumps(data).encode(), SODA_TOKEN)
        assert [(a.dedup_key, a.severity) for a in alerts] == [
            ("soda:98e719ed", Severity.SEV4),
            ("soda:df1183d8", Severity.SEV3),
            ("soda:31789e1f", Severity.SEV3),
        ]

    async def test_dedup_keys_are_stable_across_runs(
        self, client: httpx.AsyncClient, inbox: AlertInbox
    ) -> None:
        """A later scan with other timestamps and values gives the same dedup keys."""
        first = await post_and_read(
            client, inbox, "soda", fixture_bytes("soda_scan_results.json"), SODA_TOKEN
        )
        rerun = fixture_json("soda_scan_results.json")
        rerun["dataTimestamp"] = rerun["scanStartTimestamp"] = "2026-11-29T08:00:00+00:00"
        for check in rerun["checks"]:
            check["diagnostics"]["value"] = 123
        second = await post_and_read(client, inbox, "soda", json.dumps(rerun).encode(), SODA_TOKEN)
        assert [a.dedup_key for a in second] == [a.dedup_key for a in first]

    async def test_check_attributes_become_labels(self, client: httpx.AsyncClient, inbox: AlertInbox) -> None:
        """resourceAttributes route the alert like labels: team=mlops and a model name."""
        data = fixture_json("soda_scan_results.json")
        data["checks"] = data["checks"][:1]
        data["checks"][0]["resourceAttributes"] = [
            {"name": "team", "value": "mlops"},
            {"name": "model", "value": "churn-model"},
        ]
        (alert,) = await post_and_read(client, inbox, "soda", json.dumps(data).encode(), SODA_TOKEN)
        assert alert.side_hint is Side.MLOPS
        assert alert.assets == (
            Asset(kind=AssetKind.TABLE, name="users"),
            Asset(kind=AssetKind.MODEL, name="churn-model"),
        )
