"""What a run's templates resolve against: the incident's assets and alert labels, the params, the env."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import SecretStr, ValidationError

from bot.domain.models import Asset
from playbooks import taint, templates
from playbooks.errors import ParameterError, StepError
from playbooks.guards import guard_step
from playbooks.redaction import url_credentials
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
        self._allow = playbook.allow
        self._params: dict[str, _Resolved] = {}
        for name, spec in playbook.params.items():
            self._params[name] = self._resolve_param(name, overrides.get(name, spec.default), spec.is_secret)
        self.secrets = frozenset(self._secret_values(playbook))

    def _resolve_param(self, name: str, text: str | None, secret: bool) -> _Resolved:
        if text is None:
            return _Resolved(None, f"parameter {name} has no default: pass --param {name}=VALUE")
        try:
            value = templates.render(text, self._lookup)  # values from the alert stay marked (taint)
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
            taint.clean(p.value.get_secret_value())
            for p in self._params.values()
            if isinstance(p.value, SecretStr)
        }
        return {s for s in secrets if s}

    def _lookup(self, ref: Ref) -> str:
        if ref.kind is RefKind.ENV:
            value = self._env.get(ref.name)
            if not value:
                raise UnresolvedReference(f"environment variable {ref.name} is not set")
            return value
        if ref.kind is RefKind.ASSET:
            return taint.mark(ref.text, self._scope.asset_name(ref.name))
        if ref.kind is RefKind.LABEL:
            if ref.name not in self._scope.labels:
                raise UnresolvedReference(f"the alert has no label {ref.name}")
            return taint.mark(ref.text, self._scope.labels[ref.name])
        if ref.kind is RefKind.PARAM and ref.name in self._params:
            resolved = self._params[ref.name]
            if resolved.problem is not None:
                raise UnresolvedReference(resolved.problem)
            if isinstance(resolved.value, SecretStr):
                return resolved.value.get_secret_value()
            return resolved.value or ""
        raise UnresolvedReference(f"{ref.text} cannot be resolved")

    def render(self, text: str) -> str:
        return taint.clean(templates.render(text, self._lookup))

    def render_step(self, step: StepSpec) -> StepSpec:
        """The step with every template filled in, validated again (names must now be real identifiers).

        Before that, the guards (playbooks.guards) check what the alert chose against the allow-lists and
        where the credentials would go; a refusal is a StepError, and nothing has been sent.
        """
        try:
            marked = templates.map_templates(step, lambda text: templates.render(text, self._lookup))
        except UnresolvedReference as exc:
            raise StepError(str(exc)) from None
        data = guard_step(step, marked, self._allow)
        try:
            return type(step).model_validate(data, context={"rendered": True})
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            value = marked.get(str(first["loc"][0])) if first["loc"] else None
            refs = taint.sources(value) if isinstance(value, str) else []
            origin = f" (from {', '.join(refs)})" if refs else ""
            raise StepError(f"{where}{origin}: {first['msg']}") from None

    def credentials(self, step: StepSpec) -> set[str]:
        """The secrets a rendered step sends: every SecretStr field, a URL's password, basic auth's pair."""
        found: set[str] = set()
        for name in type(step).model_fields:
            found |= _secret_values(getattr(step, name))
        for value in list(found):
            found |= url_credentials(value)
        username, password = getattr(step, "username", None), getattr(step, "password", None)
        if isinstance(username, str) and isinstance(password, SecretStr):
            found.add(f"{username}:{password.get_secret_value()}")
        return {s for s in found if s}

    def display(self) -> dict[str, str | None]:
        """The params as a run records them: secrets masked, unresolved ones as None."""
        return {
            name: SECRET_PARAM_DISPLAY
            if isinstance(r.value, SecretStr)
            else (None if r.value is None else taint.clean(r.value))
            for name, r in self._params.items()
        }


def _secret_values(value: object) -> set[str]:
    if isinstance(value, SecretStr):
        return {value.get_secret_value()}
    if isinstance(value, dict):
        return {s for item in value.values() for s in _secret_values(item)}
    return set()
