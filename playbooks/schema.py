"""The playbook format: a playbook, its triggers and params, and the discriminated union of step kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.domain.evidence import DEFAULT_CHECKLISTS
from bot.domain.models import AssetKind, Severity, Side
from playbooks import templates
from playbooks.durations import parse_duration
from playbooks.identifiers import IDENTIFIER_RULE, is_identifier, is_table_name
from playbooks.templates import RefKind, Verbatim

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
            message = f"{value!r} is not a valid SQL name: {rule}"
            raise PydanticCustomError("identifier", "{message}", {"message": message})
        return value

    return AfterValidator(check)


TableName = Annotated[str, _identifier_check(3)]
ColumnName = Annotated[str, _identifier_check(1)]
SqlText = Annotated[str, Verbatim(), Field(min_length=1)]
Comparison = Literal[">", ">=", "<", "<=", "==", "!="]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class AssetRef(BaseModel):
    """The asset a step's finding names, when the step's own choice (its table, model, job) is not right."""

    model_config = _FROZEN

    kind: AssetKind
    name: str = Field(min_length=1, max_length=200)


class StepBase(BaseModel):
    """Fields every step has."""

    model_config = _FROZEN

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    item: str = Field(description="the checklist item of the playbook's side that this step fills")
    timeout: Duration = Field(default=30.0, le=600, description="seconds per attempt")
    retries: int = Field(default=2, ge=0, le=5, description="extra attempts after a transient error")
    asset: AssetRef | None = None


class SqlFreshnessStep(StepBase):
    """max(column) of a table vs an SLA."""

    kind: Literal["sql_freshness"]
    url: SecretStr
    table: TableName
    column: ColumnName = "updated_at"
    max_age: Duration


class SqlVolumeStep(StepBase):
    """Rows in the last window vs the average of the previous windows, with a tolerance band."""

    kind: Literal["sql_volume"]
    url: SecretStr
    table: TableName
    column: ColumnName = "updated_at"
    window: Duration = 86400.0
    baseline_windows: int = Field(default=7, ge=1, le=90)
    tolerance: float = Field(default=0.5, gt=0, le=10, description="band = baseline * (1 +- tolerance)")


class SqlSchemaStep(StepBase):
    """Columns and types vs the last snapshot."""

    kind: Literal["sql_schema"]
    url: SecretStr
    table: TableName
    change_window: Duration = Field(default=86400.0, description="a change stays anomalous this long")


class HttpHealthStep(StepBase):
    """Status and latency of a serving endpoint."""

    kind: Literal["http_health"]
    preset: Literal["url", "kserve_v2", "mlflow"] = "url"
    url: str = Field(min_length=1, description="the endpoint (preset url) or the server's base URL")
    model: str | None = Field(default=None, description="the model name, for kserve_v2")
    latency_budget: Duration = 1.0
    token: SecretStr | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _model_for_kserve(self) -> Self:
        if self.preset == "kserve_v2" and not self.model:
            raise ValueError("preset kserve_v2 needs `model`")
        return self


class MlflowModelVersionStep(StepBase):
    """A new model version or a moved alias in the MLflow registry within the window."""

    kind: Literal["mlflow_model_version"]
    tracking_uri: str = Field(min_length=1)
    model: str = Field(min_length=1)
    window: Duration = 86400.0
    aliases: list[str] = Field(default_factory=list, description="watch only these aliases; empty: all")
    token: SecretStr | None = None


class DriftStep(StepBase):
    """PSI and two-sample KS between a reference and a current sample read with SQL."""

    kind: Literal["drift"]
    url: SecretStr
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


class PrometheusQueryStep(StepBase):
    """An instant PromQL query against a threshold: anomalous when a series compares true."""

    kind: Literal["prometheus_query"]
    url: str = Field(min_length=1)
    query: str = Field(min_length=1)
    op: Comparison
    threshold: float
    empty: Literal["ok", "anomalous", "unknown"] = "unknown"
    token: SecretStr | None = None


class AirflowFailedRunsStep(StepBase):
    """Failed DAG runs and their failed tasks, or backfill runs, in the window."""

    kind: Literal["airflow_failed_runs"]
    url: str = Field(min_length=1, description="the Airflow API server's base URL")
    api: Literal["v2", "v1"] = "v2"
    report: Literal["failed_jobs", "backfills"] = "failed_jobs"
    dag_ids: list[str] = Field(default_factory=list)
    window: Duration = 86400.0
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    page_limit: int = Field(default=100, ge=1, le=1000)
    max_task_lookups: int = Field(default=10, ge=0, le=50)


class DbtArtifactsStep(StepBase):
    """Failed tests, stale sources, or the upstream lineage of a node, from dbt's artifacts."""

    kind: Literal["dbt_artifacts"]
    artifacts: str = Field(min_length=1, description="a folder or an http(s) URL holding the JSON files")
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


def _param_shorthand(value: object) -> object:
    # `table: "{asset.table}"` is short for `table: {default: "{asset.table}"}`.
    if isinstance(value, bool):
        return {"default": "true" if value else "false"}
    if value is None or isinstance(value, str | int | float):
        return {"default": None if value is None else str(value)}
    return value


class ParamSpec(BaseModel):
    """A parameter: its default (a template) and whether its value is a secret."""

    model_config = _FROZEN

    default: str | None = None  # None: the caller must give a value
    secret: bool = False
    description: str = ""

    @property
    def is_secret(self) -> bool:
        return self.secret or any(r.kind is RefKind.ENV for r in templates.references(self.default or ""))


Param = Annotated[ParamSpec, BeforeValidator(_param_shorthand)]
ParamName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,39}$")]


class Triggers(BaseModel):
    """When the bot runs the playbook on its own as an incident opens; every criterion given must match."""

    model_config = _FROZEN

    manual: bool = False  # by hand only, never on open
    labels: dict[str, str] = Field(default_factory=dict, description="alert label -> glob on its value")
    asset_kinds: list[AssetKind] = Field(default_factory=list)
    asset_names: list[str] = Field(default_factory=list, description="globs; with asset_kinds, one asset")
    severities: list[Severity] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_match(self) -> Self:
        if not self.manual and not (self.labels or self.asset_kinds or self.asset_names or self.severities):
            raise ValueError(
                "give at least one of labels, asset_kinds, asset_names, severities, or set manual: true"
            )
        return self


def _manual() -> Triggers:
    return Triggers(manual=True)


class Playbook(BaseModel):
    """An automated playbook: steps that gather evidence for one side's checklist."""

    model_config = _FROZEN

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")
    side: Side
    description: str = Field(min_length=1, max_length=300)
    triggers: Triggers = Field(default_factory=_manual)
    params: dict[ParamName, Param] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1, max_length=50)

    _source: Path | None = PrivateAttr(default=None)  # the file it was loaded from, set by the loader

    @property
    def source(self) -> Path | None:
        return self._source

    @model_validator(mode="before")
    @classmethod
    def _known_kinds(cls, data: Any) -> Any:
        # Checked first so that an unknown kind is reported on its own `kind` line with the kinds there are.
        steps = data.get("steps") if isinstance(data, dict) else None
        if not isinstance(steps, list):
            return data
        errors = [
            _error(
                ("steps", i, "kind"),
                "unknown_kind",
                f"unknown step kind {s['kind']!r}; known: " + ", ".join(STEP_KINDS),
                s["kind"],
            )
            for i, s in enumerate(steps)
            if isinstance(s, dict) and "kind" in s and s["kind"] not in STEP_KINDS
        ]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        errors = [*self._param_errors(), *self._step_errors()]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def _param_errors(self) -> list[InitErrorDetails]:
        errors = []
        for name, spec in self.params.items():
            if name in ("asset", "labels"):
                errors.append(
                    _error(("params", name), "reserved", f"{name!r} is reserved for references", name)
                )
            for ref in templates.references(spec.default or ""):
                if ref.kind is RefKind.PARAM:
                    errors.append(
                        _error(
                            ("params", name),
                            "param_in_param",
                            f"{ref.text}: a parameter's default cannot refer to another parameter",
                            spec.default,
                        )
                    )
                elif problem := self._ref_problem(ref):
                    errors.append(_error(("params", name), "reference", problem, spec.default))
        return errors

    def _step_errors(self) -> list[InitErrorDetails]:
        items = {spec.key for spec in DEFAULT_CHECKLISTS[self.side]}
        errors: list[InitErrorDetails] = []
        seen: set[str] = set()
        for i, step in enumerate(self.steps):
            if step.id in seen:
                errors.append(
                    _error(("steps", i, "id"), "duplicate", f"duplicate step id {step.id!r}", step.id)
                )
            seen.add(step.id)
            if step.item not in items:
                errors.append(
                    _error(
                        ("steps", i, "item"),
                        "unknown_item",
                        f"{step.item!r} is not a {self.side.value} checklist item; one of: "
                        + ", ".join(sorted(items)),
                        step.item,
                    )
                )
            for loc, text in templates.template_fields(step):
                for ref in templates.references(text):
                    if problem := self._ref_problem(ref):
                        errors.append(_error(("steps", i, *loc), "reference", problem, text))
            for loc, text in templates.verbatim_fields(step):
                refs = [r for r in templates.references(text) if self._ref_problem(r) is None]
                if refs:
                    errors.append(
                        _error(
                            ("steps", i, *loc),
                            "reference",
                            f"{refs[0].text} is not substituted in SQL text: pass it in query_params and "
                            "write :name in the query",
                            text,
                        )
                    )
        return errors

    def _ref_problem(self, ref: templates.Ref) -> str | None:
        if ref.kind is RefKind.PARAM and ref.name not in self.params:
            declared = ", ".join(sorted(self.params)) or "none"
            return f"{ref.text} is not a declared parameter (declared: {declared})"
        if ref.kind is RefKind.ASSET and ref.name not in AssetKind.__members__.values():
            return f"{ref.text}: asset kinds are " + ", ".join(k.value for k in AssetKind)
        if ref.kind is RefKind.INVALID:
            return f"{ref.text}: references are {{param}}, {{asset.KIND}}, {{labels.KEY}} or ${{ENV}}"
        return None

    def item_ref(self, step: StepBase) -> str:
        return f"{self.side.value}.{step.item}"


def _error(loc: tuple[str | int, ...], kind: str, message: str, value: object) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(kind, "{message}", {"message": message}), loc=loc, input=value
    )
