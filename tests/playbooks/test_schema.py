"""The playbook format: every step kind validates; mistakes fail naming the file, the line and the field."""

from __future__ import annotations

import textwrap

import pytest

from bot.yamlfile import YamlFileError, validate_text
from playbooks.durations import format_duration, parse_duration
from playbooks.registry import default_registry
from playbooks.schema import STEP_KINDS, Playbook

EVERY_KIND = """
name: every-kind
side: dataops
description: one step of every kind
triggers:
  asset_kinds: [table]
  asset_names: ["analytics.*"]
  labels: {team: data*}
  severities: [sev1, sev2]
params:
  warehouse: "${WAREHOUSE_URL}"
  table: "{asset.table}"
  dataset: "{labels.dataset}"
  token:
    default: "${API_TOKEN}"
    description: bearer token
steps:
  - {id: fresh, kind: sql_freshness, item: table_freshness, url: "{warehouse}", table: "{table}", max_age: 6h}
  - {id: volume, kind: sql_volume, item: volume, url: "{warehouse}", table: "{table}", window: 1d,
     baseline_windows: 7, tolerance: 0.5}
  - {id: schema, kind: sql_schema, item: schema_changes, url: "{warehouse}", table: "{table}"}
  - {id: health, kind: http_health, item: failed_jobs, preset: kserve_v2, url: "http://kserve", model: churn,
     latency_budget: 250ms, headers: {X-Key: "{token}"}}
  - {id: registry, kind: mlflow_model_version, item: failed_jobs, tracking_uri: "http://mlflow", model: churn,
     aliases: [champion]}
  - {id: drift, kind: drift, item: volume, url: "{warehouse}", table: "{table}", column: tenure,
     time_column: event_time, psi_threshold: 0.2, ks_pvalue: 0.01, min_sample: 500}
  - {id: drift-q, kind: drift, item: volume, url: "{warehouse}",
     reference_query: "select x from t where d < :now", current_query: "select x from t",
     query_params: {d: "{dataset}"}}
  - {id: prom, kind: prometheus_query, item: failed_jobs, url: "http://prom",
     query: 'sum(rate(x{dataset="{dataset}"}[5m]))', op: ">", threshold: 0.05, empty: ok}
  - {id: airflow, kind: airflow_failed_runs, item: failed_jobs, url: "http://airflow", api: v1,
     report: backfills, dag_ids: [a, b], username: admin, password: "${AIRFLOW_PASSWORD}", timeout: 20}
  - {id: dbt, kind: dbt_artifacts, item: feature_lineage, artifacts: /srv/dbt/target, report: lineage,
     node: "{table}", retries: 0}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(YamlFileError) as caught:
        validate_text(textwrap.dedent(text), "pb.yaml", Playbook)
    return [str(p) for p in caught.value.problems]


BASE = """\
name: broken
side: dataops
description: a playbook with one mistake
steps:
  - id: fresh
    kind: sql_freshness
    item: table_freshness
    url: duckdb:///w.db
    table: orders
    max_age: 6h
"""


class TestValidPlaybooks:
    def test_every_kind_validates(self) -> None:
        """One valid step of every kind; the union and the registry know the same kinds."""
        playbook = validate_text(EVERY_KIND, "every.yaml", Playbook)
        assert {s.kind for s in playbook.steps} == set(STEP_KINDS)
        assert set(default_registry().kinds) == set(STEP_KINDS)
        assert playbook.params["token"].is_secret
        assert not playbook.params["table"].is_secret
        fresh = playbook.steps[0]
        assert fresh.timeout == 30
        assert fresh.retries == 2
        assert fresh.max_age == 6 * 3600

    def test_secret_fields_are_masked(self) -> None:
        """Credential fields are SecretStr: a dump of the step never shows them."""
        playbook = validate_text(EVERY_KIND, "every.yaml", Playbook)
        assert "AIRFLOW_PASSWORD" not in playbook.steps[8].model_dump_json()

    def test_base_is_valid(self) -> None:
        """The base of the mistakes below is itself valid, and manual when it names no trigger."""
        assert validate_text(BASE, "pb.yaml", Playbook).triggers.manual


class TestMistakes:
    def test_unknown_kind(self) -> None:
        """A misspelt kind is reported on its line, with the kinds there are."""
        [line] = problems(BASE.replace("kind: sql_freshness", "kind: sql_freshnes"))
        assert line.startswith(
            "pb.yaml:6: steps.0.kind: unknown step kind 'sql_freshnes'; known: sql_freshness"
        )

    def test_unknown_field(self) -> None:
        """A typo in a field name is an extra field, named with its line."""
        [line] = problems(BASE + "    max_agee: 1h\n")
        assert line == "pb.yaml:11: steps.0.sql_freshness.max_agee: Extra inputs are not permitted"

    def test_unknown_top_level_field(self) -> None:
        [line] = problems(BASE.replace("description:", "descripton: x\ndescription:"))
        assert line == "pb.yaml:3: descripton: Extra inputs are not permitted"

    def test_wrong_type(self) -> None:
        """A value of the wrong type names the field and line."""
        [line] = problems(BASE.replace("    max_age: 6h\n", "    max_age: 6h\n    retries: many\n"))
        assert line.startswith("pb.yaml:11: steps.0.sql_freshness.retries: Input should be a valid integer")

    def test_bad_duration(self) -> None:
        [line] = problems(BASE.replace("max_age: 6h", "max_age: soon"))
        assert line.startswith("pb.yaml:10: steps.0.sql_freshness.max_age:")
        assert "'soon' is not a duration" in line

    def test_unknown_item(self) -> None:
        """An item that is not on the side's checklist is refused, listing the side's items."""
        [line] = problems(BASE.replace("item: table_freshness", "item: serving_health"))
        assert line.startswith("pb.yaml:7: steps.0.item: 'serving_health' is not a dataops checklist item")
        assert "table_freshness" in line

    def test_missing_field(self) -> None:
        [line] = problems(BASE.replace("    max_age: 6h\n", ""))
        assert line == "pb.yaml:5: steps.0.sql_freshness.max_age: Field required"

    def test_sql_name_checked(self) -> None:
        """A literal table name that is not an identifier is refused at load time."""
        [line] = problems(BASE.replace("table: orders", "table: 'orders; drop table x'"))
        assert line.startswith(
            "pb.yaml:9: steps.0.sql_freshness.table: 'orders; drop table x' is not a valid SQL"
        )

    def test_undeclared_parameter(self) -> None:
        [line] = problems(BASE.replace("table: orders", 'table: "{tabel}"'))
        assert line == "pb.yaml:9: steps.0.table: {tabel} is not a declared parameter (declared: none)"

    def test_unknown_asset_kind(self) -> None:
        [line] = problems(BASE.replace("table: orders", 'table: "{asset.tabel}"'))
        assert "steps.0.table: {asset.tabel}: asset kinds are model, endpoint, table, job, feature" in line

    def test_parameter_in_sql_text(self) -> None:
        """A reference inside SQL text would be an injection: refused, pointing at query_params."""
        text = BASE.replace(
            "    kind: sql_freshness\n    item: table_freshness\n    url: duckdb:///w.db\n    table: orders\n"
            "    max_age: 6h\n",
            "    kind: drift\n    item: volume\n    url: duckdb:///w.db\n"
            "    reference_query: \"select x from t where k = '{labels.k}'\"\n    current_query: select 1\n",
        )
        [line] = problems(text)
        assert line.startswith(
            "pb.yaml:9: steps.0.reference_query: {labels.k} is not substituted in SQL text"
        )

    def test_duplicate_step_ids(self) -> None:
        second = BASE.split("steps:\n")[1]
        [line] = problems(BASE + second)
        assert line == "pb.yaml:11: steps.1.id: duplicate step id 'fresh'"

    def test_triggers_need_a_criterion(self) -> None:
        [line] = problems(BASE.replace("steps:", "triggers: {}\nsteps:"))
        assert line.startswith("pb.yaml:4: triggers: Value error, give at least one of labels")

    def test_kserve_needs_a_model(self) -> None:
        text = BASE.replace("side: dataops", "side: mlops").replace(
            "    kind: sql_freshness\n    item: table_freshness\n    url: duckdb:///w.db\n    table: orders\n"
            "    max_age: 6h\n",
            "    kind: http_health\n    item: serving_health\n    preset: kserve_v2\n    url: http://k\n",
        )
        [line] = problems(text)
        assert line == "pb.yaml:5: steps.0.http_health: Value error, preset kserve_v2 needs `model`"

    def test_param_cannot_refer_to_param(self) -> None:
        [line] = problems(BASE.replace("steps:", "params:\n  a: x\n  b: '{a}'\nsteps:"))
        assert line.startswith("pb.yaml:6: params.b: {a}: a parameter's default cannot refer to another")

    def test_yaml_syntax_error(self) -> None:
        [line] = problems(BASE + "  - id: [unclosed\n")
        assert line.startswith("pb.yaml:12: YAML syntax error")


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [(90, 90.0), ("90", 90.0), ("250ms", 0.25), ("15m", 900.0), ("6h", 21600.0), ("7d", 604800.0)],
    )
    def test_parse(self, text: object, seconds: float) -> None:
        assert parse_duration(text) == seconds

    @pytest.mark.parametrize(
        ("seconds", "text"),
        [
            (0.25, "250 ms"),
            (42, "42 s"),
            (900, "15 min"),
            (5400, "1.5 h"),
            (86400, "24 h"),
            (8.7 * 86400, "8.7 d"),
        ],
    )
    def test_format(self, seconds: float, text: str) -> None:
        assert format_duration(seconds) == text
