"""RoutingRules: severity from labels, assets from labels, the side hint, and overriding them in YAML."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.alerts.config import AlertIntakeConfig
from bot.alerts.draft import Outcome
from bot.alerts.kinds import SourceKind
from bot.alerts.routing import RoutingRules
from bot.domain.models import Asset, AssetKind, Severity, Side
from bot.yamlfile import YamlFileError, validate_text

RULES = RoutingRules()
AM = SourceKind.ALERTMANAGER


def severity(labels: dict[str, str], outcome: Outcome | None = None) -> Severity:
    return RULES.severity_for(labels, outcome, Severity.SEV3, Severity.SEV4)


class TestSeverity:
    @pytest.mark.parametrize(
        ("labels", "expected"),
        [
            ({"severity": "page"}, Severity.SEV1),
            ({"severity": "critical"}, Severity.SEV2),
            ({"severity": "Warning"}, Severity.SEV3),
            ({"severity": "info"}, Severity.SEV4),
            ({"severity": "sev1"}, Severity.SEV1),
            ({"severity": "SEV4"}, Severity.SEV4),
            ({"severity": "P2"}, Severity.SEV2),
            ({"priority": "p1"}, Severity.SEV1),
            ({"sev": "3"}, Severity.SEV3),
            ({"severity": "whatever", "priority": "P1"}, Severity.SEV1),  # unknown value: next label
        ],
    )
    def test_labels(self, labels: dict[str, str], expected: Severity) -> None:
        """severity/priority/sev labels: names, sevN, PN and N."""
        assert severity(labels) is expected

    def test_defaults(self) -> None:
        """No usable label: the source default, or the warn severity for a warned check."""
        assert severity({}) is Severity.SEV3
        assert severity({"severity": "bogus"}) is Severity.SEV3
        assert severity({}, "warned") is Severity.SEV4
        assert severity({"severity": "critical"}, "warned") is Severity.SEV2  # a label wins over the outcome

    def test_names_are_configurable(self) -> None:
        """severity_names replaces the default mapping; keys are matched case-insensitively."""
        rules = RoutingRules(severity_names={"Blocker": Severity.SEV1})
        assert (
            rules.severity_for({"severity": "blocker"}, None, Severity.SEV3, Severity.SEV4) is Severity.SEV1
        )
        assert (
            rules.severity_for({"severity": "critical"}, None, Severity.SEV3, Severity.SEV4) is Severity.SEV3
        )


class TestAssets:
    def test_default_labels(self) -> None:
        """model, endpoint/service, table/dataset, dag_id and feature each name an asset."""
        labels = {
            "model": "churn",
            "service": "churn-api",
            "dataset": "features.users",
            "dag_id": "load_users",
            "feature": "tenure_days",
            "instance": "wh-2",
        }
        assert RULES.assets_for(AM, labels) == (
            Asset(kind=AssetKind.MODEL, name="churn"),
            Asset(kind=AssetKind.ENDPOINT, name="churn-api"),
            Asset(kind=AssetKind.TABLE, name="features.users"),
            Asset(kind=AssetKind.JOB, name="load_users"),
            Asset(kind=AssetKind.FEATURE, name="tenure_days"),
        )

    def test_prometheus_job_label_is_not_a_pipeline_job(self) -> None:
        """`job` is Prometheus's scrape job on Alertmanager/Grafana alerts; from other sources it is a job."""
        assert RULES.assets_for(AM, {"job": "node-exporter"}) == ()
        assert RULES.assets_for(SourceKind.GENERIC, {"job": "nightly_load"}) == (
            Asset(kind=AssetKind.JOB, name="nightly_load"),
        )

    def test_unusable_values_name_no_asset(self) -> None:
        """Empty or over-long values stay labels only."""
        assert RULES.assets_for(AM, {"model": "  ", "table": "t" * 201}) == ()


class TestSide:
    @pytest.mark.parametrize(
        ("source", "labels", "expected"),
        [
            (AM, {"team": "dataops"}, Side.DATAOPS),
            (AM, {"team": "data-platform"}, Side.DATAOPS),
            (AM, {"team": "mlops", "alertname": "TableStale"}, Side.MLOPS),  # team first
            (AM, {"side": "dataops", "team": "mlops"}, Side.DATAOPS),  # an explicit side label first
            (AM, {"alertname": "PredictionDrift"}, Side.MLOPS),
            (AM, {"alertname": "EndpointErrors"}, Side.MLOPS),
            (AM, {"alertname": "FeatureTableStale"}, Side.DATAOPS),
            (SourceKind.SODA, {}, Side.DATAOPS),
            (SourceKind.GREAT_EXPECTATIONS, {"team": "mlops"}, Side.MLOPS),
            (AM, {"alertname": "DiskFull"}, None),  # nothing matches: no guess
            (AM, {"team": "database"}, None),  # `data` must be the whole word or a prefix part
        ],
    )
    def test_default_rules(self, source: SourceKind, labels: dict[str, str], expected: Side | None) -> None:
        """The first matching default rule gives the hint."""
        assets = RULES.assets_for(source, labels)
        assert RULES.side_for(source, labels, assets) is expected

    def test_asset_kind_rules(self) -> None:
        """No team and a neutral name: a table asset hints DataOps, a model MLOps."""
        assert RULES.side_for(AM, {}, (Asset(kind=AssetKind.TABLE, name="t"),)) is Side.DATAOPS
        assert RULES.side_for(AM, {}, (Asset(kind=AssetKind.MODEL, name="m"),)) is Side.MLOPS

    def test_rule_needs_a_condition(self) -> None:
        """A rule that would match everything is refused."""
        with pytest.raises(ValidationError, match="at least one of"):
            RoutingRules.model_validate({"sides": [{"side": "mlops"}]})

    def test_bad_pattern_is_refused(self) -> None:
        """An invalid regular expression is a config error, not a runtime one."""
        with pytest.raises(ValidationError, match="invalid label pattern"):
            RoutingRules.model_validate({"sides": [{"side": "mlops", "labels": {"team": "("}}]})


YAML = """\
sources:
  prometheus:
    kind: alertmanager
    secret: abc
    labels: {env: prod}
  grafana:
    kind: grafana
    auth: hmac
    secret: def
    require_timestamp: true
routing:
  severity_names: {blocker: sev1}
  assets:
    - {label: pipeline, kind: job}
  sides:
    - side: dataops
      labels: {owner: "^warehouse$"}
"""


class TestConfig:
    def test_alerts_section_from_yaml(self) -> None:
        """The `alerts:` section validates sources and overrides routing lists wholesale."""
        config = validate_text(YAML, "bot.yaml", AlertIntakeConfig)
        assert config.sources["prometheus"].labels == {"env": "prod"}
        assert config.sources["grafana"].signature_header == "X-Grafana-Alerting-Signature"
        assert config.sources["grafana"].timestamp_header == "X-Grafana-Alerting-Signature-Timestamp"
        assert config.sources["prometheus"].signature_header == "X-Handoff-Signature"
        rules = config.routing
        assert rules.assets_for(AM, {"pipeline": "p", "model": "m"}) == (Asset(kind=AssetKind.JOB, name="p"),)
        assert rules.side_for(AM, {"owner": "warehouse"}, ()) is Side.DATAOPS
        assert rules.side_for(AM, {"team": "dataops"}, ()) is None  # the default list was replaced

    def test_typo_is_reported_with_its_line(self) -> None:
        """Unknown keys are refused, naming the file, line and field."""
        with pytest.raises(YamlFileError) as err:
            validate_text("sources:\n  x:\n    kind: soda\n    secrett: s\n", "bot.yaml", AlertIntakeConfig)
        assert "bot.yaml:4: sources.x.secrett" in str(err.value)

    def test_secret_is_not_shown(self) -> None:
        """The secret is a SecretStr: its repr and the config dump hide it."""
        config = validate_text(YAML, "bot.yaml", AlertIntakeConfig)
        assert "abc" not in repr(config)
        assert "abc" not in config.model_dump_json()
