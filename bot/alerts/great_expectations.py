"""Great Expectations validation and checkpoint results (or their describe()): one draft per failure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.alerts.draft import AlertDraft, Outcome, as_text, extras_as_text
from bot.alerts.kinds import SourceKind
from bot.domain.alerts import AlertStatus
from bot.domain.models import Asset, AssetKind

_OPEN = ConfigDict(extra="allow")


def _kwargs_as_arguments(data: Any) -> Any:
    # A field named `kwargs` clashes with the `**kwargs` of the generated __init__ (extra fields are allowed).
    if isinstance(data, dict) and "kwargs" in data:
        data = {k: v for k, v in data.items() if k != "kwargs"} | {"arguments": data["kwargs"]}
    return data


WARNING_SEVERITIES = frozenset({"warning", "info"})  # GE 1.x expectation severities below `critical`


class GxExpectationConfig(BaseModel):
    model_config = _OPEN

    type: str | None = None  # GE 1.x
    expectation_type: str | None = None  # GE 0.x
    arguments: dict[str, Any] = Field(default_factory=dict)  # `kwargs` in the payload
    meta: dict[str, Any] | None = None
    id: str | None = None
    severity: str | None = None

    _kwargs = model_validator(mode="before")(_kwargs_as_arguments)

    @model_validator(mode="after")
    def _named(self) -> GxExpectationConfig:
        if not (self.type or self.expectation_type):
            raise ValueError("an expectation needs `type` (or `expectation_type`)")
        return self

    @property
    def name(self) -> str:
        return self.type or self.expectation_type or ""


class GxExpectationResult(BaseModel):
    """One element of a validation result's `results`."""

    model_config = _OPEN

    success: bool
    expectation_config: GxExpectationConfig
    result: dict[str, Any] = Field(default_factory=dict)
    exception_info: dict[str, Any] | None = None


class GxValidationResult(BaseModel):
    """`ExpectationSuiteValidationResult.to_json_dict()`."""

    model_config = _OPEN

    success: bool | None = None
    results: list[GxExpectationResult]
    suite_name: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class GxDescribedExpectation(BaseModel):
    """One element of a validation description's `expectations`."""

    model_config = _OPEN

    expectation_type: str = Field(min_length=1)
    success: bool
    arguments: dict[str, Any] = Field(default_factory=dict)  # `kwargs` in the payload
    result: dict[str, Any] = Field(default_factory=dict)

    _kwargs = model_validator(mode="before")(_kwargs_as_arguments)


class GxDescribedValidation(BaseModel):
    """`ExpectationSuiteValidationResult.describe_dict()`: no suite or data asset name, only the batch id."""

    model_config = _OPEN

    success: bool | None = None
    expectations: list[GxDescribedExpectation]
    result_url: str | None = None


class GxPayload(BaseModel):
    """Any of: a validation result (`results`), a checkpoint result (`run_results`), a checkpoint description
    (`validation_results`), or one validation description (`expectations`)."""

    model_config = _OPEN

    success: bool | None = None
    results: list[GxExpectationResult] | None = None
    suite_name: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    run_results: dict[str, GxValidationResult] | None = None
    validation_results: list[GxDescribedValidation] | None = None
    expectations: list[GxDescribedExpectation] | None = None
    result_url: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> GxPayload:
        shapes = (self.results, self.run_results, self.validation_results, self.expectations)
        if all(s is None for s in shapes):
            raise ValueError("expected one of `results`, `run_results`, `validation_results`, `expectations`")
        return self


@dataclass(frozen=True)
class _Failure:
    """A failed expectation with the context a dedup key and a summary need."""

    suite: str
    data_asset: str
    datasource: str
    expectation_type: str
    kwargs: dict[str, Any]
    result: dict[str, Any]
    gx_severity: str
    meta: dict[str, Any]
    details: dict[str, str]
    notes: dict[str, str] = field(default_factory=dict)  # undeclared expectation fields (description...)
    exception: str = ""
    started: datetime | None = None
    url: str | None = None


def column_of(kwargs: dict[str, Any]) -> str:
    """The column(s) an expectation is about: `column`, `column_A`,`column_B` or `column_list`; "" if none."""
    if isinstance(kwargs.get("column"), str):
        return str(kwargs["column"])
    pair = [str(kwargs[k]) for k in ("column_A", "column_B") if kwargs.get(k) is not None]
    if pair:
        return ",".join(pair)
    columns = kwargs.get("column_list")
    return ",".join(str(c) for c in columns) if isinstance(columns, list) else ""


def dedup_key(suite: str, data_asset: str, expectation_type: str, column: str) -> str:
    """Stable across runs: a hash of suite, data asset, expectation type and column, nothing run-specific."""
    digest = hashlib.sha256("\x1f".join((suite, data_asset, expectation_type, column)).encode()).hexdigest()
    return f"gx:{digest[:32]}"


def split_batch_id(batch_id: str) -> tuple[str, str]:
    """(datasource, data asset) from a GE 1.x batch id `datasource-asset[-option_value...]`."""
    datasource, _, asset = batch_id.partition("-")
    return (datasource, asset) if asset else ("", batch_id)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _exception_message(info: dict[str, Any] | None) -> str:
    if not info:
        return ""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "raised an exception")
    # Some versions key exception info by metric: {metric_id: {raised_exception, exception_message, ...}}.
    nested = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    return "; ".join(str(v.get("exception_message") or "raised an exception") for v in nested)


def _from_validation(v: GxValidationResult, checkpoint: str = "") -> list[_Failure]:
    meta = v.meta
    batch = meta.get("active_batch_definition") or {}
    batch = batch if isinstance(batch, dict) else {}
    run_id = meta.get("run_id") if isinstance(meta.get("run_id"), dict) else {}
    suite = v.suite_name or str(meta.get("expectation_suite_name") or "")
    run_time = meta.get("validation_time") or (run_id or {}).get("run_time")
    context = {
        "validation_time": str(run_time or ""),
        "run_name": str((run_id or {}).get("run_name") or ""),
        "validation_id": str(meta.get("validation_id") or ""),
        "checkpoint_id": str(meta.get("checkpoint_id") or ""),
        "checkpoint_run": checkpoint,
    }
    failures = []
    for r in v.results:
        if r.success:
            continue
        cfg = r.expectation_config
        batch_id = str(cfg.arguments.get("batch_id") or "")
        datasource, asset = split_batch_id(batch_id)
        failures.append(
            _Failure(
                suite=suite,
                data_asset=str(batch.get("data_asset_name") or asset),
                datasource=str(batch.get("datasource_name") or datasource),
                expectation_type=cfg.name,
                kwargs=cfg.arguments,
                result=r.result,
                gx_severity=(cfg.severity or "").lower(),
                meta=cfg.meta or {},
                details={**context, "expectation_id": cfg.id or "", "batch_id": batch_id}
                | extras_as_text(r.model_extra, prefix="result."),
                notes=extras_as_text(cfg.model_extra),
                exception=_exception_message(r.exception_info),
                started=_parse_time(run_time),
            )
        )
    return failures


def _from_description(v: GxDescribedValidation) -> list[_Failure]:
    failures = []
    for e in v.expectations:
        if e.success:
            continue
        batch_id = str(e.arguments.get("batch_id") or "")
        datasource, asset = split_batch_id(batch_id)
        failures.append(
            _Failure(
                suite="",
                data_asset=asset,
                datasource=datasource,
                expectation_type=e.expectation_type,
                kwargs=e.arguments,
                result=e.result,
                gx_severity="",
                meta={},
                details={"batch_id": batch_id, "result_url": v.result_url or ""},
                notes=extras_as_text(e.model_extra),
                url=v.result_url,
            )
        )
    return failures


def summary_of(f: _Failure, column: str) -> str:
    where = ".".join(p for p in (f.data_asset, column) if p) or "the batch"
    text = f"{f.expectation_type} failed on {where}"
    res = f.result
    if isinstance(res.get("unexpected_count"), int) and isinstance(res.get("element_count"), int):
        text += f": {res['unexpected_count']} of {res['element_count']} values unexpected"
        if isinstance(res.get("unexpected_percent"), int | float):
            text += f" ({res['unexpected_percent']:.1f}%)"
    elif "observed_value" in res:
        text += f": observed {as_text(res['observed_value'], 200)}"
    if f.exception:
        text += f" (exception: {as_text(f.exception, 200)})"
    return text


def draft_of(f: _Failure) -> AlertDraft:
    column = column_of(f.kwargs)
    scalars = {k: as_text(v) for k, v in f.meta.items() if isinstance(v, str | int | float | bool)}
    derived = {
        "suite": f.suite,
        "data_asset": f.data_asset,
        "datasource": f.datasource,
        "expectation_type": f.expectation_type,
        "column": column,
        "gx_severity": f.gx_severity,
    }
    labels = scalars | {k: v for k, v in derived.items() if v}
    annotations = f.notes | {"result": as_text(f.result), "kwargs": as_text(f.kwargs)}
    if f.exception:
        annotations["exception"] = as_text(f.exception)
    if other_meta := {k: v for k, v in f.meta.items() if k not in scalars}:
        annotations["meta"] = as_text(other_meta)
    outcome: Outcome = "warned" if f.gx_severity in WARNING_SEVERITIES else "failed"
    asset_name = f.data_asset[:200]
    return AlertDraft(
        source=SourceKind.GREAT_EXPECTATIONS,
        dedup_key=dedup_key(f.suite, f.data_asset, f.expectation_type, column),
        status=AlertStatus.FIRING,
        summary=summary_of(f, column),
        labels=labels,
        annotations=annotations,
        details={k: v for k, v in f.details.items() if v},
        starts_at=f.started,
        url=f.url,
        outcome=outcome,
        assets=(Asset(kind=AssetKind.TABLE, name=asset_name),) if asset_name else (),
    )


def drafts(data: object) -> list[AlertDraft]:
    """Validate a GE result (pydantic.ValidationError if it fits no shape) and draft one alert per failure."""
    payload = GxPayload.model_validate(data)
    failures: list[_Failure] = []
    if payload.results is not None:
        failures += _from_validation(
            GxValidationResult(results=payload.results, suite_name=payload.suite_name, meta=payload.meta)
        )
    for run, validation in (payload.run_results or {}).items():
        failures += _from_validation(validation, checkpoint=run)
    for described in payload.validation_results or []:
        failures += _from_description(described)
    if payload.expectations is not None:
        failures += _from_description(
            GxDescribedValidation(expectations=payload.expectations, result_url=payload.result_url)
        )
    return [draft_of(f) for f in failures]
