"""The playbook format: a playbook, its triggers and params; the step kinds are in `playbooks.step_kinds`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, Field, PrivateAttr, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.domain.evidence import DEFAULT_CHECKLISTS
from bot.domain.models import AssetKind, Severity, Side
from playbooks import templates
from playbooks.identifiers import AllowList, AllowListed, noun
from playbooks.step_kinds import (
    FROZEN,
    STEP_KINDS,
    STEP_MODELS,
    AirflowFailedRunsStep,
    AssetRef,
    ColumnName,
    Comparison,
    DbtArtifactsStep,
    DriftStep,
    Duration,
    HttpHealthStep,
    MlflowModelVersionStep,
    PrometheusQueryStep,
    SqlFreshnessStep,
    SqlSchemaStep,
    SqlText,
    SqlVolumeStep,
    Step,
    StepBase,
    StepSpec,
    TableName,
    kind_of,
)
from playbooks.templates import RefKind

__all__ = [
    "STEP_KINDS",
    "STEP_MODELS",
    "AirflowFailedRunsStep",
    "AllowList",
    "AssetRef",
    "ColumnName",
    "Comparison",
    "DbtArtifactsStep",
    "DriftStep",
    "Duration",
    "HttpHealthStep",
    "MlflowModelVersionStep",
    "Param",
    "ParamName",
    "ParamSpec",
    "Playbook",
    "PrometheusQueryStep",
    "SqlFreshnessStep",
    "SqlSchemaStep",
    "SqlText",
    "SqlVolumeStep",
    "Step",
    "StepBase",
    "StepSpec",
    "TableName",
    "Triggers",
    "kind_of",
]


def _param_shorthand(value: object) -> object:
    # `table: "{asset.table}"` is short for `table: {default: "{asset.table}"}`.
    if isinstance(value, bool):
        return {"default": "true" if value else "false"}
    if value is None or isinstance(value, str | int | float):
        return {"default": None if value is None else str(value)}
    return value


class ParamSpec(BaseModel):
    """A parameter: its default (a template) and whether its value is a secret."""

    model_config = FROZEN

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

    model_config = FROZEN

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

    model_config = FROZEN

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")
    side: Side
    description: str = Field(min_length=1, max_length=300)
    triggers: Triggers = Field(default_factory=_manual)
    params: dict[ParamName, Param] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1, max_length=50)
    allow: AllowList = Field(default_factory=AllowList, description="what a value from the alert may name")

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
            errors += self._alert_choice_errors(i, step)
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

    def _from_alert(self, text: str) -> list[str]:
        """The `{labels.*}` and `{asset.*}` references a template uses, directly or through a param."""
        found = []
        for ref in templates.references(text):
            if ref.kind is RefKind.PARAM and ref.name in self.params:
                found += [r.text for r in templates.references(self.params[ref.name].default or "")]
            else:
                found.append(ref.text)
        return [r for r in dict.fromkeys(found) if r.startswith(("{labels.", "{asset."))]

    def _alert_choice_errors(self, index: int, step: StepBase) -> list[InitErrorDetails]:
        """A base_url the alert chooses, or a name a label chooses with no allow-list for it (playbooks.guards)."""
        errors = []
        base_url = getattr(step, "base_url", None)
        if isinstance(base_url, str) and (refs := self._from_alert(base_url)):
            message = f"{refs[0]}: base_url names the configured host and cannot come from the alert"
            errors.append(_error(("steps", index, "base_url"), "alert_host", message, base_url))
        allow = (step.allow or AllowList()).merged(self.allow)
        for name in type(step).model_fields:
            listed = templates.field_metadata(type(step), name, AllowListed)
            text = getattr(step, name)
            if listed is None or listed.kind == "urls" or not isinstance(text, str):
                continue
            labels = [r for r in self._from_alert(text) if r.startswith("{labels.")]
            if labels and not allow.entries(listed.kind):
                message = (
                    f"{labels[0]} chooses a {noun(listed.kind)} name: list the {listed.kind} an alert may "
                    f"name in allow.{listed.kind} of the step or the playbook"
                )
                errors.append(_error(("steps", index, name), "allow_list", message, text))
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
