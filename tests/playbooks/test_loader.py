"""Loading playbook files and choosing the playbooks an opening incident sets off."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.models import Asset, AssetKind, Severity
from bot.yamlfile import YamlFileError
from playbooks.errors import PlaybookNotFound
from playbooks.loader import BUILTIN_DIR, find, load_playbooks, matching
from playbooks.schema import Triggers
from tests.playbooks.helpers import make_playbook

PLAYBOOK = """\
name: {name}
side: dataops
description: orders freshness
triggers:
  asset_kinds: [table]
steps:
  - {{id: f, kind: sql_freshness, item: table_freshness, url: "duckdb:///w.db", table: orders, max_age: 1h}}
"""


class TestLoad:
    def test_builtins_load_and_cover_the_items(self) -> None:
        """Every built-in validates without secrets, and together they fill every item a system can answer."""
        playbooks = load_playbooks()
        assert len(playbooks) == len(list(BUILTIN_DIR.glob("*.yaml")))
        items = {p.item_ref(s) for p in playbooks for s in p.steps}
        assert items == {
            "mlops.model_version", "mlops.serving_health", "mlops.prediction_logs", "mlops.drift_signals",
            "dataops.table_freshness", "dataops.volume", "dataops.schema_changes", "dataops.feature_lineage",
            "dataops.failed_jobs", "dataops.recent_backfills",
        }  # fmt: skip
        assert all(p.source is not None and p.source.parent == BUILTIN_DIR for p in playbooks)

    def test_folder_adds_playbooks(self, tmp_path: Path) -> None:
        (tmp_path / "orders.yaml").write_text(PLAYBOOK.format(name="orders-fresh"))
        (tmp_path / "notes.txt").write_text("not a playbook")
        playbooks = load_playbooks([tmp_path])
        assert find(playbooks, "orders-fresh").source == tmp_path / "orders.yaml"

    def test_duplicate_names_refused(self, tmp_path: Path) -> None:
        """Two playbooks with one name: the second is refused on its `name` line, naming the first."""
        (tmp_path / "a.yaml").write_text(PLAYBOOK.format(name="orders-fresh"))
        (tmp_path / "b.yaml").write_text(PLAYBOOK.format(name="orders-fresh"))
        with pytest.raises(YamlFileError) as caught:
            load_playbooks([tmp_path], builtin=False)
        assert str(caught.value) == (
            f"{tmp_path / 'b.yaml'}:1: name: duplicate playbook name 'orders-fresh', already defined in "
            f"{tmp_path / 'a.yaml'}"
        )

    def test_clash_with_a_builtin_refused(self, tmp_path: Path) -> None:
        (tmp_path / "mine.yaml").write_text(PLAYBOOK.format(name="dataops-freshness"))
        with pytest.raises(YamlFileError, match="duplicate playbook name 'dataops-freshness'"):
            load_playbooks([tmp_path])

    def test_all_problems_reported_together(self, tmp_path: Path) -> None:
        (tmp_path / "a.yaml").write_text(PLAYBOOK.format(name="a-one").replace("max_age: 1h", "max_age: x"))
        (tmp_path / "b.yaml").write_text(PLAYBOOK.format(name="b-one").replace("side: dataops", "side: ops"))
        with pytest.raises(YamlFileError) as caught:
            load_playbooks([tmp_path, tmp_path / "missing"], builtin=False)
        files = [p.file for p in caught.value.problems]
        assert files == [str(tmp_path / "missing"), str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]

    def test_find_unknown(self) -> None:
        with pytest.raises(PlaybookNotFound, match="no playbook named 'nope'"):
            find(load_playbooks(), "nope")


def with_triggers(**triggers: object) -> object:
    playbook = make_playbook({"id": "f", "kind": "sql_freshness", "item": "table_freshness", "url": "x",
                              "table": "t", "max_age": 1})  # fmt: skip
    return playbook.model_copy(update={"triggers": Triggers.model_validate(triggers)})


TABLE = Asset(kind=AssetKind.TABLE, name="analytics.orders")
MODEL = Asset(kind=AssetKind.MODEL, name="churn")


class TestMatching:
    @pytest.mark.parametrize(
        ("triggers", "assets", "labels", "severity", "expected"),
        [
            ({"manual": True}, [TABLE], {}, Severity.SEV1, False),
            ({"asset_kinds": ["table"]}, [MODEL, TABLE], {}, None, True),
            ({"asset_kinds": ["table"]}, [MODEL], {}, None, False),
            ({"asset_names": ["analytics.*"]}, [TABLE], {}, None, True),
            ({"asset_kinds": ["model"], "asset_names": ["analytics.*"]}, [MODEL, TABLE], {}, None, False),
            ({"labels": {"team": "data*"}}, [], {"team": "data-platform"}, None, True),
            ({"labels": {"team": "data*"}}, [], {"team": "ml"}, None, False),
            ({"labels": {"team": "data*"}}, [], {}, None, False),
            ({"severities": ["sev1", "sev2"]}, [], {}, Severity.SEV2, True),
            ({"severities": ["sev1"]}, [], {}, Severity.SEV3, False),
            ({"severities": ["sev1"], "asset_kinds": ["table"]}, [TABLE], {}, Severity.SEV1, True),
            ({"severities": ["sev1"], "asset_kinds": ["table"]}, [MODEL], {}, Severity.SEV1, False),
        ],
    )
    def test_every_given_criterion_must_match(
        self,
        triggers: dict[str, object],
        assets: list[Asset],
        labels: dict[str, str],
        severity: Severity | None,
        expected: bool,
    ) -> None:
        playbook = with_triggers(**triggers)
        assert (matching([playbook], assets, labels, severity) == [playbook]) is expected  # type: ignore[list-item]

    def test_builtins_on_a_table_incident(self) -> None:
        """A table incident sets off the DataOps table playbooks and Airflow, none of the manual ones."""
        names = {p.name for p in matching(load_playbooks(), [TABLE], {}, Severity.SEV2)}
        assert names == {
            "dataops-freshness",
            "dataops-volume-schema",
            "dataops-airflow",
            "dataops-dbt-lineage",
        }

    def test_builtins_on_a_model_incident(self) -> None:
        names = {p.name for p in matching(load_playbooks(), [MODEL], {}, Severity.SEV2)}
        assert names == {"mlops-serving", "mlops-registry", "dataops-airflow"}
