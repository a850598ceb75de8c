"""The step kinds of a playbook: their field types, their models and the discriminated union `Step`."""

from __future__ import annotations

from typing import Annotated, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.domain.models import AssetKind
from playbooks import templates
from playbooks.durations import parse_duration
from playbooks.identifiers import IDENTIFIER_RULE, AllowList, AllowListed, is_identifier, is_table_name
from playbooks.templates import Verbatim

Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


def _identifier_check(max_parts: int) -> AfterValidator:
    def check(value: str, info: ValidationInfo) -> str:
        # A value with references is checked again once rendered (context "rendered"), before any SQL.
        rendered = bool(info.context and info.context.get("rendered"))
        if not rendered and templates.has_references(value):
            return value
        ok = is_table_name(value) if max_parts > 1 else is_identifier(value)
        if not ok:
            rule = IDENTIFIER_RULE + (", up to 3 dotted parts" if max_parts > 1 else "")
            # Once rendered, the value may come from the alert: the error names the field, not the value.
            shown = "the value" if rendered else repr(value)
            message = f"{shown} is not a valid SQL name: {rule}"
            raise PydanticCustomError("identifier", "{message}", {"message": message})
        return value

    return AfterValidator(check)


TableName = Annotated[str, _identifier_check(3), AllowListed("tables")]
ColumnName = Annotated[str, _identifier_check(1), AllowListed("columns")]
# Where a step reads from: an HTTP(S) URL, a folder, or (SqlUrl) a SQLAlchemy URL with its credentials.
Location = Annotated[str, Field(min_length=1), AllowListed("urls")]
SqlUrl = Annotated[SecretStr, AllowListed("urls")]
SqlText = Annotated[str, Verbatim(), Field(min_length=1)]
Comparison = Literal[">", ">=", "<", "<=", "==", "!="]

FROZEN = ConfigDict(extra="forbid", frozen=True)


class AssetRef(BaseModel):
    """The asset a step's finding names, when the step's own choice (its table, model, job) is not right."""

    model_config = FROZEN

    kind: AssetKind
    name: str = Field(min_length=1, max_length=200)


class StepBase(BaseModel):
    """Fields every step has."""

    model_config = FROZEN

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    item: str = Field(description="the checklist item of the playbook's side that this step fills")
    timeout: Duration = Field(default=30.0, le=600, description="seconds per attempt")
    retries: int = Field(default=2, ge=0, le=5, description="extra attempts after a transient error")
    asset: AssetRef | None = None
    # Used as written (never rendered): what a value from the alert may name, with the playbook's own list.
    allow: Annotated[AllowList | None, Verbatim()] = None


class HttpStepBase(StepBase):
    """Fields of the steps that call an HTTP API: `base_url` pins the host their credentials go to."""

    base_url: str | None = Field(
        default=None,
        min_length=1,
        description="scheme://host[:port] every request of the step must go to (never from the alert)",
    )


class SqlFreshnessStep(StepBase):
    """max(column) of a table vs an SLA."""

    kind: Literal["sql_freshness"]
    url: SqlUrl
    table: TableName
    column: ColumnName = "updated_at"
    max_age: Duration


class SqlVolumeStep(StepBase):
    """Rows in the last window vs the average of the previous windows, with a tolerance band."""

    kind: Literal["sql_volume"]
    url: SqlUrl
    table: TableName
    column: ColumnName = "updated_at"
    window: Duration = 86400.0
    baseline_windows: int = Field(default=7, ge=1, le=90)
    tolerance: float = Field(default=0.5, gt=0, le=10, description="band = baseline * (1 +- tolerance)")


class SqlSchemaStep(StepBase):
    """Columns and types vs the last snapshot."""

    kind: Literal["sql_schema"]
    url: SqlUrl
    table: TableName
    change_window: Duration = Field(default=86400.0, description="a change stays anomalous this long")


class HttpHealthStep(HttpStepBase):
    """Status and latency of a serving endpoint."""

    kind: Literal["http_health"]
    preset: Literal["url", "kserve_v2", "mlflow"] = "url"
    url: Location = Field(description="the endpoint (preset url) or the server's base URL")
    model: str | None = Field(default=None, description="the model name, for kserve_v2")
    latency_budget: Duration = 1.0
    token: SecretStr | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _model_for_kserve(self) -> Self:
        if self.preset == "kserve_v2" and not self.model:
            raise ValueError("preset kserve_v2 needs `model`")
        return self


class MlflowModelVersionStep(HttpStepBase):
    """A new model version or a moved alias in the MLflow registry within the window."""

    kind: Literal["mlflow_model_version"]
    tracking_uri: Location
    model: str = Field(min_length=1)
    window: Duration = 86400.0
    aliases: list[str] = Field(default_factory=list, description="watch only these aliases; empty: all")
    token: SecretStr | None = None


class DriftStep(StepBase):
    """PSI and two-sample KS between a reference and a current sample read with SQL."""

    kind: Literal["drift"]
    url: SqlUrl
    # Either a table column with two time windows...
    table: TableName | None = None
    column: ColumnName | None = None
    time_column: ColumnName | None = None
    current_window: Duration = 86400.0
    reference_window: Duration = 7 * 86400.0
    # ...or two queries whose first column is the sample; values come in as bind parameters (:name).
    reference_query: SqlText | None = None
    current_query: SqlText | None = None
    query_params: dict[str, str] = Field(default_factory=dict)
    bins: int = Field(default=10, ge=2, le=100)
    psi_threshold: float = Field(default=0.25, gt=0)
    ks_pvalue: float = Field(default=0.05, gt=0, lt=1)
    min_sample: int = Field(default=1000, ge=2)
    sample_limit: int = Field(default=200_000, ge=10, le=10_000_000)
    epsilon: float = Field(default=1e-4, gt=0, lt=0.01)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        table_form = any(v is not None for v in (self.table, self.column, self.time_column))
        query_form = any(v is not None for v in (self.reference_query, self.current_query))
        if table_form == query_form:
            raise ValueError(
                "give either table, column and time_column, or reference_query and current_query"
            )
        if table_form and None in (self.table, self.column, self.time_column):
            raise ValueError("the table form needs table, column and time_column")
        if query_form and None in (self.reference_query, self.current_query):
            raise ValueError("the query form needs both reference_query and current_query")
        return self


class PrometheusQueryStep(HttpStepBase):
    """An instant PromQL query against a threshold: anomalous when a series compares true."""

    kind: Literal["prometheus_query"]
    url: Location
    query: str = Field(min_length=1)
    op: Comparison
    threshold: float
    empty: Literal["ok", "anomalous", "unknown"] = "unknown"
    token: SecretStr | None = None


class AirflowFailedRunsStep(HttpStepBase):
    """Failed DAG runs and their failed tasks, or backfill runs, in the window."""

    kind: Literal["airflow_failed_runs"]
    url: Location = Field(description="the Airflow API server's base URL")
    api: Literal["v2", "v1"] = "v2"
    report: Literal["failed_jobs", "backfills"] = "failed_jobs"
    dag_ids: list[str] = Field(default_factory=list)
    window: Duration = 86400.0
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    page_limit: int = Field(default=100, ge=1, le=1000)
    max_task_lookups: int = Field(default=10, ge=0, le=50)


class DbtArtifactsStep(HttpStepBase):
    """Failed tests, stale sources, or the upstream lineage of a node, from dbt's artifacts."""

    kind: Literal["dbt_artifacts"]
    artifacts: Location = Field(description="a folder or an http(s) URL holding the JSON files")
    report: Literal["tests", "freshness", "lineage"]
    node: str | None = Field(default=None, description="the affected model or table, for lineage")
    warn_is_anomalous: bool = False
    token: SecretStr | None = None

    @model_validator(mode="after")
    def _node_for_lineage(self) -> Self:
        if self.report == "lineage" and not self.node:
            raise ValueError("report lineage needs `node`")
        return self


StepSpec = (
    SqlFreshnessStep
    | SqlVolumeStep
    | SqlSchemaStep
    | HttpHealthStep
    | MlflowModelVersionStep
    | DriftStep
    | PrometheusQueryStep
    | AirflowFailedRunsStep
    | DbtArtifactsStep
)
Step = Annotated[StepSpec, Field(discriminator="kind")]

STEP_MODELS: tuple[type[StepBase], ...] = get_args(StepSpec)


def kind_of(model: type[StepBase]) -> str:
    kind: str = get_args(model.model_fields["kind"].annotation)[0]
    return kind


STEP_KINDS: tuple[str, ...] = tuple(kind_of(m) for m in STEP_MODELS)
