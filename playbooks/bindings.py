"""What a run's templates resolve against: the incident's assets and alert labels, the params, the env."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import SecretStr, ValidationError

from bot.domain.models import Asset
from playbooks import templates
from playbooks.errors import ParameterError, StepError
from playbooks.schema import Playbook, StepSpec
from playbooks.templates import Ref, RefKind, UnresolvedReference

SECRET_PARAM_DISPLAY = "**********"


@dataclass(frozen=True)
class IncidentScope:
    """The incident a run gathers evidence for: its assets and the labels of the alert that opened it."""

    assets: tuple[Asset, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    incident_id: str | None = None

    def asset_name(self, kind: str) -> str:
        for asset in self.assets:
            if asset.kind.value == kind:
                return asset.name
        raise UnresolvedReference(f"the incident has no {kind} asset")


@dataclass(frozen=True)
class _Resolved:
    value: str | SecretStr | None
    problem: str | None = None


class Bindings:
    """The resolved params of one run and every secret value it uses; renders the steps' templates."""

    def __init__(
        self,
        playbook: Playbook,
        overrides: Mapping[str, str],
        scope: IncidentScope,
        env: Mapping[str, str],
    ) -> None:
        unknown = sorted(set(overrides) - set(playbook.params))
        if unknown:
            declared = ", ".join(sorted(playbook.params)) or "none"
            raise ParameterError(
                f"playbook {playbook.name} has no parameter {', '.join(unknown)} (declared: {declared})"
            )
        self._scope = scope
        self._env = env
        self._params: dict[str, _Resolved] = {}
        for name, spec in playbook.params.items():
            self._params[name] = self._resolve_param(name, overrides.get(name, spec.default), spec.is_secret)
        self.secrets = frozenset(self._secret_values(playbook))

    def _resolve_param(self, name: str, text: str | None, secret: bool) -> _Resolved:
        if text is None:
            return _Resolved(None, f"parameter {name} has no default: pass --param {name}=VALUE")
        try:
            value = templates.render(text, self._lookup)
        except UnresolvedReference as exc:
            return _Resolved(None, f"parameter {name}: {exc}")
        has_env = any(r.kind is RefKind.ENV for r in templates.references(text))
        return _Resolved(SecretStr(value) if secret or has_env else value)

    def _secret_values(self, playbook: Playbook) -> set[str]:
        # Every env value a template of this playbook names is a secret, whether or not a step gets to use it.
        texts = [spec.default or "" for spec in playbook.params.values()]
        texts += [text for step in playbook.steps for _, text in templates.template_fields(step)]
        secrets = {
            self._env[r.name]
            for text in texts
            for r in templates.references(text)
            if r.kind is RefKind.ENV and self._env.get(r.name)
        }
        secrets |= {
            p.value.get_secret_value() for p in self._params.values() if isinstance(p.value, SecretStr)
        }
        return {s for s in secrets if s}

    def _lookup(self, ref: Ref) -> str:
        if ref.kind is RefKind.ENV:
            value = self._env.get(ref.name)
            if not value:
                raise UnresolvedReference(f"environment variable {ref.name} is not set")
            return value
        if ref.kind is RefKind.ASSET:
            return self._scope.asset_name(ref.name)
        if ref.kind is RefKind.LABEL:
            if ref.name not in self._scope.labels:
                raise UnresolvedReference(f"the alert has no label {ref.name}")
            return self._scope.labels[ref.name]
        if ref.kind is RefKind.PARAM and ref.name in self._params:
            resolved = self._params[ref.name]
            if resolved.problem is not None:
                raise UnresolvedReference(resolved.problem)
            if isinstance(resolved.value, SecretStr):
                return resolved.value.get_secret_value()
            return resolved.value or ""
        raise UnresolvedReference(f"{ref.text} cannot be resolved")

    def render(self, text: str) -> str:
        return templates.render(text, self._lookup)

    def render_step(self, step: StepSpec) -> StepSpec:
        """The step with every template filled in, validated again (names must now be real identifiers)."""
        try:
            data = templates.map_templates(step, self.render)
        except UnresolvedReference as exc:
            raise StepError(str(exc)) from None
        try:
            return type(step).model_validate(data, context={"rendered": True})
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise StepError(f"{where}: {first['msg']}") from None

    def display(self) -> dict[str, str | None]:
        """The params as a run records them: secrets masked, unresolved ones as None."""
        return {
            name: SECRET_PARAM_DISPLAY if isinstance(r.value, SecretStr) else r.value
            for name, r in self._params.items()
        }
