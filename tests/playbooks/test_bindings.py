"""Templates, params and secrets: what a run resolves, what it keeps secret, and what it scrubs."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.domain.models import Asset, AssetKind
from playbooks import templates
from playbooks.bindings import Bindings, IncidentScope
from playbooks.errors import ParameterError, StepError
from playbooks.redaction import Redactor
from playbooks.schema import SqlFreshnessStep
from playbooks.templates import RefKind
from tests.playbooks.helpers import make_playbook

SCOPE = IncidentScope(
    assets=(Asset(kind=AssetKind.MODEL, name="churn"), Asset(kind=AssetKind.TABLE, name="analytics.orders")),
    labels={"dataset": "orders", "team": "data"},
)


def step(**fields: object) -> dict[str, object]:
    return {"id": "f", "kind": "sql_freshness", "item": "table_freshness", "url": "{url}", "table": "{table}",
            "max_age": "1h", **fields}  # fmt: skip


class TestTemplates:
    def test_references(self) -> None:
        """The four kinds of reference; PromQL braces are not references."""
        refs = templates.references('x{job="api"} {p} {asset.table} {labels.team} ${TOKEN} {foo.bar}')
        assert [(r.kind, r.name) for r in refs] == [
            (RefKind.PARAM, "p"), (RefKind.ASSET, "table"), (RefKind.LABEL, "team"), (RefKind.ENV, "TOKEN"),
            (RefKind.INVALID, "foo.bar"),
        ]  # fmt: skip


class TestBindings:
    def test_params_resolve_from_assets_labels_and_overrides(self) -> None:
        playbook = make_playbook(
            step(), params={"url": "duckdb:///w.db", "table": "{asset.table}", "ds": "{labels.dataset}"}
        )
        bindings = Bindings(playbook, {"url": "duckdb:///other.db"}, SCOPE, {})
        assert bindings.display() == {
            "url": "duckdb:///other.db",
            "table": "analytics.orders",
            "ds": "orders",
        }
        rendered = bindings.render_step(playbook.steps[0])
        assert isinstance(rendered, SqlFreshnessStep)
        assert rendered.table == "analytics.orders"
        assert rendered.url.get_secret_value() == "duckdb:///other.db"

    def test_env_values_are_secret(self) -> None:
        """A param from `${NAME}` is a SecretStr, masked in display, and its value is scrubbed."""
        playbook = make_playbook(step(), params={"url": "postgresql://u:${PGPASS}@h/db", "table": "t"})
        bindings = Bindings(playbook, {}, SCOPE, {"PGPASS": "hunter22"})
        assert bindings.display()["url"] == "**********"
        assert "hunter22" in bindings.secrets
        rendered = bindings.render_step(playbook.steps[0])
        assert isinstance(rendered, SqlFreshnessStep)
        assert "hunter22" not in repr(rendered)

    def test_missing_env_fails_the_step(self) -> None:
        playbook = make_playbook(step(), params={"url": "${WAREHOUSE_URL}", "table": "t"})
        with pytest.raises(StepError, match="environment variable WAREHOUSE_URL is not set"):
            Bindings(playbook, {}, SCOPE, {}).render_step(playbook.steps[0])

    def test_missing_asset_and_label_fail_the_step(self) -> None:
        playbook = make_playbook(step(table="{labels.nope}", allow={"tables": ["*"]}), params={"url": "x"})
        with pytest.raises(StepError, match="the alert has no label nope"):
            Bindings(playbook, {}, SCOPE, {}).render_step(playbook.steps[0])
        playbook = make_playbook(step(table="{asset.job}"), params={"url": "x"})
        with pytest.raises(StepError, match="the incident has no job asset"):
            Bindings(playbook, {}, SCOPE, {}).render_step(playbook.steps[0])

    def test_required_param_without_value(self) -> None:
        playbook = make_playbook(step(), params={"url": None, "table": "t"})
        with pytest.raises(StepError, match="parameter url has no default: pass --param url=VALUE"):
            Bindings(playbook, {}, SCOPE, {}).render_step(playbook.steps[0])

    def test_unknown_override(self) -> None:
        playbook = make_playbook(step(), params={"url": "x", "table": "t"})
        with pytest.raises(ParameterError, match="no parameter tabel"):
            Bindings(playbook, {"tabel": "x"}, SCOPE, {})

    def test_rendered_identifier_checked(self) -> None:
        """A label carrying SQL cannot become a table name, even when any table is allowed; the error names
        the label, not its value."""
        playbook = make_playbook(step(table="{labels.dataset}", allow={"tables": ["*"]}), params={"url": "x"})
        scope = IncidentScope(labels={"dataset": "orders; drop table users"})
        with pytest.raises(StepError) as refused:
            Bindings(playbook, {}, scope, {}).render_step(playbook.steps[0])
        assert str(refused.value).startswith(
            "table (from {labels.dataset}): the value is not a valid SQL name"
        )
        assert "drop table" not in str(refused.value)

    def test_secret_param_flag(self) -> None:
        """`secret: true` makes a caller-given value secret too."""
        playbook = make_playbook(step(), params={"url": {"default": None, "secret": True}, "table": "t"})
        bindings = Bindings(playbook, {"url": "postgresql://x:y@h/d"}, SCOPE, {})
        assert bindings.display()["url"] == "**********"
        assert "postgresql://x:y@h/d" in bindings.secrets


class TestRedactor:
    def test_scrubs_plain_and_url_encoded(self) -> None:
        redactor = Redactor(["p@ss word/1"])
        text = "bad p@ss word/1 in postgresql://u:p%40ss%20word%2F1@h and q=p%40ss+word%2F1"
        assert redactor.scrub(text) == "bad *** in postgresql://u:***@h and q=***"

    def test_masks_url_passwords_it_was_not_told_about(self) -> None:
        assert Redactor().scrub("connect postgresql+psycopg://app:abc123@db:5432/x") == (
            "connect postgresql+psycopg://app:***@db:5432/x"
        )

    def test_longest_first(self) -> None:
        assert Redactor(["abc", "abcdef"]).scrub("abcdef abc") == "*** ***"

    def test_secretstr_repr(self) -> None:
        assert "hunter" not in repr(SecretStr("hunter"))
