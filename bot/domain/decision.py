"""decide_ownership: from evidence and verdicts to a proposal, an agreed decision or a dispute. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.models import (
    Asset,
    EvidenceItem,
    EvidenceStatus,
    ItemRole,
    Owner,
    Side,
    Verdict,
    VerdictKind,
)


class DecisionStatus(StrEnum):
    PROPOSED = "proposed"  # the evidence suggests an owner; sides have not both confirmed agreeing verdicts
    AGREED = "agreed"  # both sides confirmed and the verdicts agree: post the decision
    DISPUTED = "disputed"  # both sides confirmed but the verdicts conflict with each other or the evidence


class Rule(StrEnum):
    NO_ANOMALY = "no_anomaly"
    SERVING_DOWN = "serving_down"
    MODEL_RELEASE = "model_release"
    UPSTREAM_DATA = "upstream_data"
    BOTH_SIDES = "both_sides"
    POPULATION_SHIFT = "population_shift"
    SYMPTOMS_NEED_DATA = "symptoms_need_data"
    CONFIRMED_BY_SIDES = "confirmed_by_sides"


RULE_TEXT: Mapping[Rule, str] = {
    Rule.NO_ANOMALY: "Nothing is anomalous yet: no owner is proposed until evidence shows a failure.",
    Rule.SERVING_DOWN: "The model's serving path is failing: MLOps owns the serving path.",
    Rule.MODEL_RELEASE: "The model release path changed shortly before the incident: MLOps owns the model.",
    Rule.UPSTREAM_DATA: (
        "Upstream data failed (stale, failed, broken or rewritten): DataOps owns the pipeline."
    ),
    Rule.BOTH_SIDES: (
        "Both sides show anomalies: the upstream data failure is the primary suspect, because model "
        "anomalies are often its downstream effect; both are named."
    ),
    Rule.POPULATION_SHIFT: (
        "Model behaviour shifted while the pipelines are healthy: a population shift. MLOps owns the "
        "retraining signal; DataOps confirms freshness, volume, schema and lineage are sound."
    ),
    Rule.SYMPTOMS_NEED_DATA: (
        "The model shows symptoms, but the data side has not shown its pipelines healthy yet: both sides "
        "need evidence before an owner can be proposed."
    ),
    Rule.CONFIRMED_BY_SIDES: (
        "Both sides confirmed an owner other than the one the evidence alone proposed: people decide, "
        "the decision follows their verdicts."
    ),
}


class DisputeKind(StrEnum):
    BOTH_CLEAR = "both_clear"
    CLEAR_WITH_ANOMALY = "clear_with_anomaly"
    SAME_ASSET = "same_asset"


class Dispute(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: DisputeKind
    text: str
    evidence: tuple[str, ...] = ()  # refs of the conflicting evidence items


class Reason(BaseModel):
    """One evidence item that drove the decision, with why."""

    model_config = ConfigDict(frozen=True)

    ref: str
    text: str


class OwnershipDecision(BaseModel):
    """What the bot proposes or posts: the owner, the failed asset and why."""

    model_config = ConfigDict(frozen=True)

    status: DecisionStatus
    owner: Owner
    primary: Side | None = None
    rule: Rule
    failed_asset: Asset | None = None
    prevention_owner: str | None = None
    rationale: tuple[Reason, ...] = ()
    missing: tuple[str, ...] = ()  # refs of items still unknown
    awaiting: tuple[Side, ...] = ()  # sides whose confirmation is missing or "need more evidence"
    disputes: tuple[Dispute, ...] = ()
    confirmed_by: dict[Side, str] = Field(default_factory=dict)

    @property
    def summary(self) -> str:
        return RULE_TEXT[self.rule]


def _anomalous(items: Iterable[EvidenceItem], *roles: ItemRole) -> list[EvidenceItem]:
    return [i for i in items if i.status is EvidenceStatus.ANOMALOUS and i.role in roles]


def _reason(item: EvidenceItem, why: str) -> Reason:
    detail = f": {item.detail}" if item.detail else ""
    return Reason(ref=item.ref, text=f"{item.side.label} {item.label} {why}{detail}")


def _asset_of(items: Sequence[EvidenceItem], fallback: Asset | None) -> Asset | None:
    return next((i.asset for i in items if i.asset is not None), fallback)


def _first_asset(assets: Sequence[Asset], *kinds: str) -> Asset | None:
    return next((a for a in assets if a.kind.value in kinds), None)


class _Proposal(BaseModel):
    owner: Owner
    primary: Side | None
    rule: Rule
    failed_asset: Asset | None
    rationale: tuple[Reason, ...]


def _propose(evidence: Sequence[EvidenceItem], assets: Sequence[Asset]) -> _Proposal:
    serving = _anomalous(evidence, ItemRole.SERVING)
    release = _anomalous(evidence, ItemRole.RELEASE)
    symptoms = _anomalous(evidence, ItemRole.SYMPTOM)
    upstream = _anomalous(evidence, ItemRole.UPSTREAM)
    model_asset = _first_asset(assets, "endpoint", "model")
    data_asset = _first_asset(assets, "table", "job", "feature")

    def reasons(items: Sequence[EvidenceItem], why: str) -> list[Reason]:
        return [_reason(i, why) for i in items]

    if upstream and (serving or release):
        return _Proposal(
            owner=Owner.JOINT,
            primary=Side.DATAOPS,
            rule=Rule.BOTH_SIDES,
            failed_asset=_asset_of(upstream, data_asset),
            rationale=(
                *reasons(upstream, "is anomalous (primary suspect, upstream)"),
                *reasons(serving + release, "is anomalous (model side)"),
                *reasons(symptoms, "is anomalous (likely a downstream effect)"),
            ),
        )
    if upstream:
        return _Proposal(
            owner=Owner.DATAOPS,
            primary=Side.DATAOPS,
            rule=Rule.UPSTREAM_DATA,
            failed_asset=_asset_of(upstream, data_asset),
            rationale=(
                *reasons(upstream, "is anomalous"),
                *reasons(symptoms, "is anomalous (likely a downstream effect of the data failure)"),
            ),
        )
    if serving or release:
        rule = Rule.SERVING_DOWN if serving else Rule.MODEL_RELEASE
        return _Proposal(
            owner=Owner.MLOPS,
            primary=Side.MLOPS,
            rule=rule,
            failed_asset=_asset_of(serving + release, model_asset),
            rationale=(*reasons(serving + release, "is anomalous"), *reasons(symptoms, "is anomalous")),
        )
    if symptoms:
        shift_checks = [i for i in evidence if i.side is Side.DATAOPS and i.required_for_shift]
        # No data-side checks at all is not "pipelines healthy": rule 5, ask rather than guess.
        healthy = bool(shift_checks) and all(
            i.status in (EvidenceStatus.OK, EvidenceStatus.NOT_APPLICABLE) for i in shift_checks
        )
        if healthy:
            return _Proposal(
                owner=Owner.JOINT,
                primary=Side.MLOPS,
                rule=Rule.POPULATION_SHIFT,
                failed_asset=_asset_of(symptoms, model_asset),
                rationale=(
                    *reasons(symptoms, "is anomalous"),
                    *reasons(shift_checks, "is healthy"),
                ),
            )
        return _Proposal(
            owner=Owner.UNDETERMINED,
            primary=None,
            rule=Rule.SYMPTOMS_NEED_DATA,
            failed_asset=None,
            rationale=tuple(reasons(symptoms, "is anomalous")),
        )
    return _Proposal(
        owner=Owner.UNDETERMINED, primary=None, rule=Rule.NO_ANOMALY, failed_asset=None, rationale=()
    )


def _disputes(evidence: Sequence[EvidenceItem], mine: Mapping[Side, Verdict]) -> list[Dispute]:
    kinds = {side: v.kind for side, v in mine.items()}
    anomalies = [i for i in evidence if i.status is EvidenceStatus.ANOMALOUS]
    if kinds[Side.MLOPS] is VerdictKind.CLEAR and kinds[Side.DATAOPS] is VerdictKind.CLEAR:
        text = (
            "Both sides say their side is clear, but evidence is anomalous: someone's asset failed."
            if anomalies
            else "Both sides say their side is clear: no asset is named as failed. Triage jointly, or record "
            "it as a false alarm by one side owning the alerting asset."
        )
        return [Dispute(kind=DisputeKind.BOTH_CLEAR, text=text, evidence=tuple(i.ref for i in anomalies))]
    found: list[Dispute] = []
    for side in Side:
        if kinds[side] is not VerdictKind.CLEAR:
            continue
        own = [i for i in anomalies if i.side is side]
        # Model symptoms are excused when the data side owns the failure: its downstream effect (rule 4).
        if side is Side.MLOPS and kinds[Side.DATAOPS] is VerdictKind.OWNS:
            own = [i for i in own if i.role is not ItemRole.SYMPTOM]
        if own:
            labels = ", ".join(i.label for i in own)
            found.append(
                Dispute(
                    kind=DisputeKind.CLEAR_WITH_ANOMALY,
                    text=f"{side.label} says its side is clear, but its own evidence is anomalous: {labels}.",
                    evidence=tuple(i.ref for i in own),
                )
            )
    ml, data = mine[Side.MLOPS], mine[Side.DATAOPS]
    if ml.kind is data.kind is VerdictKind.OWNS and ml.asset is not None and ml.asset == data.asset:
        found.append(
            Dispute(
                kind=DisputeKind.SAME_ASSET,
                text=f"Both sides claim {ml.asset} failed on their side: agree whose asset it is.",
            )
        )
    return found


def decide_ownership(
    evidence: Iterable[EvidenceItem],
    verdicts: Mapping[Side, Verdict],
    assets: Sequence[Asset] = (),
) -> OwnershipDecision:
    """Propose an owner from the evidence; with both sides' confirmed verdicts, agree or name the dispute."""
    items = list(evidence)
    proposal = _propose(items, assets)
    missing = tuple(i.ref for i in items if i.status is EvidenceStatus.UNKNOWN)
    confirmed = {s: v for s, v in verdicts.items() if v.kind is not VerdictKind.NEED_MORE}
    base = {
        "owner": proposal.owner,
        "primary": proposal.primary,
        "rule": proposal.rule,
        "failed_asset": proposal.failed_asset,
        "rationale": proposal.rationale,
        "missing": missing,
        "confirmed_by": {s: v.user_id for s, v in confirmed.items()},
    }
    if len(confirmed) < len(Side):
        awaiting = tuple(s for s in Side if s not in confirmed)
        return OwnershipDecision(status=DecisionStatus.PROPOSED, awaiting=awaiting, **base)

    disputes = _disputes(items, confirmed)
    if disputes:
        return OwnershipDecision(status=DecisionStatus.DISPUTED, disputes=tuple(disputes), **base)

    owning = [s for s in Side if confirmed[s].kind is VerdictKind.OWNS]
    if len(owning) == 2:
        has_upstream = bool(_anomalous(items, ItemRole.UPSTREAM))
        has_model = bool(_anomalous(items, ItemRole.SERVING, ItemRole.RELEASE, ItemRole.SYMPTOM))
        primary = Side.MLOPS if has_model and not has_upstream else Side.DATAOPS
        owner = Owner.JOINT
    else:
        primary = owning[0]
        shift = proposal.rule is Rule.POPULATION_SHIFT and primary is Side.MLOPS
        owner = Owner.JOINT if shift else Owner(primary.value)
    verdict = confirmed[primary]
    # The evidence rule's text must not contradict the posted owner (e.g. "no owner is proposed").
    as_proposed = (owner, primary) == (proposal.owner, proposal.primary)
    rule = proposal.rule if as_proposed else Rule.CONFIRMED_BY_SIDES
    return OwnershipDecision(
        status=DecisionStatus.AGREED,
        **{
            **base,
            "owner": owner,
            "primary": primary,
            "rule": rule,
            "failed_asset": verdict.asset or proposal.failed_asset,
            "prevention_owner": verdict.prevention_owner,
        },
    )
