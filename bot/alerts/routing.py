"""RoutingRules: how an alert's labels give its severity, assets and side hint (config `alerts.routing`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property, lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.alerts.draft import AlertDraft, Outcome
from bot.alerts.kinds import SourceKind
from bot.domain.alerts import Alert
from bot.domain.models import Asset, AssetKind, Severity, Side

ASSET_NAME_LIMIT = 200  # Asset.name's bound: a longer value stays a label but names no asset


@lru_cache(maxsize=4096)
def _asset(kind: AssetKind, name: str) -> Asset:
    # Assets are frozen: the same few recur in alert after alert, validated once each.
    return Asset(kind=kind, name=name)


class AssetRule(BaseModel):
    """A label whose value names an asset of `kind`, for alerts of `sources` (empty: every source)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    kind: AssetKind
    sources: tuple[SourceKind, ...] = ()


class SideRule(BaseModel):
    """A side hint for alerts matching every condition given: label patterns, source kinds, asset kinds.

    Label patterns are regular expressions searched case-insensitively in the label's value (anchor them
    with ^...$ for a whole-value match); a missing label never matches.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    side: Side
    labels: dict[str, str] = Field(default_factory=dict)
    sources: tuple[SourceKind, ...] = ()
    asset_kinds: tuple[AssetKind, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> SideRule:
        if not (self.labels or self.sources or self.asset_kinds):
            raise ValueError("a side rule needs at least one of labels, sources, asset_kinds")
        try:
            _ = self.patterns
        except re.error as exc:
            raise ValueError(f"invalid label pattern: {exc}") from None
        return self

    @cached_property
    def patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((k, re.compile(v, re.IGNORECASE)) for k, v in self.labels.items())

    def matches(self, source: SourceKind, labels: Mapping[str, str], assets: tuple[Asset, ...]) -> bool:
        if self.sources and source not in self.sources:
            return False
        if self.asset_kinds and not any(a.kind in self.asset_kinds for a in assets):
            return False
        return all(name in labels and p.search(labels[name]) for name, p in self.patterns)


DEFAULT_SEVERITY_NAMES: dict[str, Severity] = {
    "page": Severity.SEV1,
    "critical": Severity.SEV2,
    "high": Severity.SEV2,
    "error": Severity.SEV3,
    "warning": Severity.SEV3,
    "medium": Severity.SEV3,
    "info": Severity.SEV4,
    "low": Severity.SEV4,
}

DEFAULT_ASSET_RULES: tuple[AssetRule, ...] = (
    AssetRule(label="model", kind=AssetKind.MODEL),
    AssetRule(label="endpoint", kind=AssetKind.ENDPOINT),
    AssetRule(label="service", kind=AssetKind.ENDPOINT),
    AssetRule(label="table", kind=AssetKind.TABLE),
    AssetRule(label="dataset", kind=AssetKind.TABLE),
    AssetRule(label="dag_id", kind=AssetKind.JOB),
    # Prometheus puts its scrape job in `job` on every series: only sources that mean a pipeline job read it.
    AssetRule(
        label="job",
        kind=AssetKind.JOB,
        sources=(SourceKind.GENERIC, SourceKind.GREAT_EXPECTATIONS, SourceKind.SODA),
    ),
    AssetRule(label="feature", kind=AssetKind.FEATURE),
)

DEFAULT_SIDE_RULES: tuple[SideRule, ...] = (
    SideRule(side=Side.MLOPS, labels={"side": r"^ml[-_ ]?ops$"}),
    SideRule(side=Side.DATAOPS, labels={"side": r"^data[-_ ]?ops$"}),
    SideRule(side=Side.MLOPS, labels={"team": r"^(ml|ml[-_ ]?ops|ml[-_ ].+)$"}),
    SideRule(side=Side.DATAOPS, labels={"team": r"^(data|data[-_ ]?ops|data[-_ ].+)$"}),
    SideRule(side=Side.DATAOPS, sources=(SourceKind.GREAT_EXPECTATIONS, SourceKind.SODA)),
    SideRule(side=Side.MLOPS, labels={"alertname": r"drift|prediction|endpoint|serving|inference|model"}),
    SideRule(
        side=Side.DATAOPS,
        labels={"alertname": r"fresh|stale|volume|row.?count|schema|dag|pipeline|ingest|backfill|job"},
    ),
    SideRule(side=Side.MLOPS, asset_kinds=(AssetKind.MODEL, AssetKind.ENDPOINT)),
    SideRule(side=Side.DATAOPS, asset_kinds=(AssetKind.TABLE, AssetKind.JOB)),
)


class RoutingRules(BaseModel):
    """Severity names, asset labels and side rules; every list replaces its default when configured.

    Severity: the first of `severity_labels` whose value is a severity (`sev2`, `P2`, `2`, or a key of
    `severity_names`) wins; else a failed check or an unlabelled alert gets the source's default severity,
    a warned check the source's warn severity. Side: the first matching rule in `sides` wins.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity_labels: tuple[str, ...] = ("severity", "priority", "sev")
    severity_names: dict[str, Severity] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY_NAMES))
    assets: tuple[AssetRule, ...] = DEFAULT_ASSET_RULES
    sides: tuple[SideRule, ...] = DEFAULT_SIDE_RULES

    @field_validator("severity_names")
    @classmethod
    def _lower_names(cls, names: dict[str, Severity]) -> dict[str, Severity]:
        return {k.strip().lower(): v for k, v in names.items()}

    def severity_for(
        self, labels: Mapping[str, str], outcome: Outcome | None, default: Severity, warn: Severity
    ) -> Severity:
        for name in self.severity_labels:
            value = labels.get(name)
            if value is None:
                continue
            parsed = Severity.parse(value) or self.severity_names.get(value.strip().lower())
            if parsed is not None:
                return parsed
        return warn if outcome == "warned" else default

    @cached_property
    def _asset_labels(self) -> dict[SourceKind, tuple[tuple[str, AssetKind], ...]]:
        """(label, kind) of the asset rules that apply to each source kind, in rule order."""
        return {
            source: tuple((r.label, r.kind) for r in self.assets if not r.sources or source in r.sources)
            for source in SourceKind
        }

    def assets_for(self, source: SourceKind, labels: Mapping[str, str]) -> tuple[Asset, ...]:
        found: list[Asset] = []
        for label, kind in self._asset_labels[source]:
            value = labels.get(label)
            if value is None:
                continue
            value = value.strip()
            if 0 < len(value) <= ASSET_NAME_LIMIT:
                found.append(_asset(kind, value))
        return tuple(found)

    @cached_property
    def _side_rules(
        self,
    ) -> tuple[
        tuple[Side, frozenset[SourceKind], frozenset[AssetKind], tuple[tuple[str, re.Pattern[str]], ...]], ...
    ]:
        return tuple((r.side, frozenset(r.sources), frozenset(r.asset_kinds), r.patterns) for r in self.sides)

    def side_for(
        self, source: SourceKind, labels: Mapping[str, str], assets: tuple[Asset, ...]
    ) -> Side | None:
        """The side of the first rule that matches (what `SideRule.matches` says, in one tight loop)."""
        for side, sources, asset_kinds, patterns in self._side_rules:
            if sources and source not in sources:
                continue
            if asset_kinds and not any(a.kind in asset_kinds for a in assets):
                continue
            for name, pattern in patterns:
                value = labels.get(name)
                if value is None or pattern.search(value) is None:
                    break
            else:
                return side
        return None

    def classify(
        self,
        draft: AlertDraft,
        *,
        default_severity: Severity,
        warn_severity: Severity,
        source_name: str | None = None,
        received_at: datetime | None = None,
    ) -> Alert:
        """The normalised Alert: the draft's explicit severity/assets/side first, the rules for the rest;
        `source_name` and `received_at` stamped on it (built once: no copy per request)."""
        labels = draft.labels
        severity = draft.severity or self.severity_for(labels, draft.outcome, default_severity, warn_severity)
        assets = tuple(dict.fromkeys((*draft.assets, *self.assets_for(draft.source, labels))))
        side = draft.side or self.side_for(draft.source, labels, assets)
        return Alert(
            source=draft.source.value,
            dedup_key=draft.dedup_key,
            status=draft.status,
            severity=severity,
            summary=draft.summary,
            labels=labels,
            annotations=draft.annotations,
            assets=assets,
            side_hint=side,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            url=draft.url,
            group_key=draft.group_key,
            details=draft.details,
            source_name=source_name,
            received_at=received_at,
        )
