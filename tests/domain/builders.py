"""Builders for the domain tests: evidence lists, verdicts and incidents in every state, all pure values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from bot.domain.evidence import Checklists
from bot.domain.incident import Incident, apply_event, close, confirm_side, record_evidence
from bot.domain.models import (
    Asset,
    AssetKind,
    EvidenceItem,
    EvidenceSource,
    EvidenceStatus,
    IncidentState,
    Severity,
    Side,
    Verdict,
    VerdictKind,
)
from bot.domain.state import IncidentEvent

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)

MODEL_VERSION = "mlops.model_version"
SERVING = "mlops.serving_health"
PREDICTIONS = "mlops.prediction_logs"
LABELS = "mlops.label_feedback"
DRIFT = "mlops.drift_signals"
FRESHNESS = "dataops.table_freshness"
VOLUME = "dataops.volume"
SCHEMA = "dataops.schema_changes"
LINEAGE = "dataops.feature_lineage"
FAILED_JOBS = "dataops.failed_jobs"
BACKFILLS = "dataops.recent_backfills"

ML_REFS = (MODEL_VERSION, SERVING, PREDICTIONS, LABELS, DRIFT)
DATA_REFS = (FRESHNESS, VOLUME, SCHEMA, LINEAGE, FAILED_JOBS, BACKFILLS)
ALL_REFS = ML_REFS + DATA_REFS
SYMPTOM_REFS = (PREDICTIONS, LABELS, DRIFT)
UPSTREAM_REFS = DATA_REFS
SHIFT_CHECKS = (FRESHNESS, VOLUME, SCHEMA, LINEAGE)

STALE_TABLE = Asset(kind=AssetKind.TABLE, name="warehouse.customer_features")
OTHER_TABLE = Asset(kind=AssetKind.TABLE, name="warehouse.orders")
FAILED_JOB = Asset(kind=AssetKind.JOB, name="airflow.build_customer_features")
FEATURE = Asset(kind=AssetKind.FEATURE, name="days_since_last_order")
ENDPOINT = Asset(kind=AssetKind.ENDPOINT, name="churn-serving")
MODEL = Asset(kind=AssetKind.MODEL, name="churn-classifier")

PERSON = EvidenceSource(kind="person", user_id="U_ML1")
PLAYBOOK = EvidenceSource(kind="playbook", playbook="data-health", run_id="r1", step="freshness")

USERS = {Side.MLOPS: "U_ML1", Side.DATAOPS: "U_DATA1"}
PREVENTION = {Side.MLOPS: "mlops-oncall", Side.DATAOPS: "dataops-oncall"}
DEFAULT_ASSET = {Side.MLOPS: ENDPOINT, Side.DATAOPS: STALE_TABLE}


def evidence(
    *,
    anomalous: Iterable[str] = (),
    ok: Iterable[str] = (),
    na: Iterable[str] = (),
    assets: Mapping[str, Asset] | None = None,
    only: Side | None = None,
) -> list[EvidenceItem]:
    """Both default checklists, unknown except the refs given; `only` keeps one side's items."""
    items = Checklists().blank_evidence()
    for refs, status in (
        (anomalous, EvidenceStatus.ANOMALOUS),
        (ok, EvidenceStatus.OK),
        (na, EvidenceStatus.NOT_APPLICABLE),
    ):
        for ref in refs:
            items[ref] = items[ref].model_copy(update={"status": status, "detail": f"{ref} checked"})
    for ref, asset in (assets or {}).items():
        items[ref] = items[ref].model_copy(update={"asset": asset})
    return [i for i in items.values() if only is None or i.side is only]


def all_ok_except(*anomalous: str, assets: Mapping[str, Asset] | None = None) -> list[EvidenceItem]:
    """Every item known: the given refs anomalous, the rest ok."""
    return evidence(anomalous=anomalous, ok=[r for r in ALL_REFS if r not in anomalous], assets=assets)


def verdict(
    side: Side,
    kind: VerdictKind,
    *,
    asset: Asset | None = None,
    prevention_owner: str | None = None,
    at: datetime = NOW,
) -> Verdict:
    """A side's verdict; an "owns" verdict names its side's default asset and prevention owner."""
    if kind is VerdictKind.OWNS:
        asset = asset or DEFAULT_ASSET[side]
        prevention_owner = prevention_owner or PREVENTION[side]
    return Verdict(
        side=side, kind=kind, asset=asset, prevention_owner=prevention_owner, user_id=USERS[side], at=at
    )


def owns(side: Side, asset: Asset | None = None) -> Verdict:
    return verdict(side, VerdictKind.OWNS, asset=asset)


def clear(side: Side) -> Verdict:
    return verdict(side, VerdictKind.CLEAR)


def need_more(side: Side) -> Verdict:
    return verdict(side, VerdictKind.NEED_MORE)


def verdicts(*given: Verdict) -> dict[Side, Verdict]:
    return {v.side: v for v in given}


def new_incident(**update: object) -> Incident:
    """A fresh incident with both blank checklists, as opening one produces."""
    fields: dict[str, object] = {
        "id": "INC-42",
        "title": "Churn model precision dropped",
        "severity": Severity.SEV2,
        "created_at": NOW,
        "updated_at": NOW,
        "last_activity_at": NOW,
        "assets": [ENDPOINT, STALE_TABLE],
        "evidence": Checklists().blank_evidence(),
    }
    fields.update(update)
    return Incident.model_validate(fields)


def investigating_with_stale_table() -> Incident:
    """Freshness anomalous on the stale table, drift anomalous: the data-owned scenario under way."""
    incident = record_evidence(
        new_incident(), FRESHNESS, EvidenceStatus.ANOMALOUS, "3 h late", PLAYBOOK, NOW, asset=STALE_TABLE
    )
    return record_evidence(incident, DRIFT, EvidenceStatus.ANOMALOUS, "PSI 0.4", PERSON, NOW)


def decided() -> Incident:
    """DataOps owns the stale table, MLOps is clear: an agreed decision."""
    incident, _ = confirm_side(investigating_with_stale_table(), clear(Side.MLOPS), NOW)
    incident, decision = confirm_side(incident, owns(Side.DATAOPS), NOW)
    assert incident.state is IncidentState.DECIDED, decision
    return incident


def incident_in(state: IncidentState) -> Incident:
    """A consistent incident in `state`, reached through the domain operations."""
    if state is IncidentState.OPEN:
        return new_incident()
    if state is IncidentState.INVESTIGATING:
        return investigating_with_stale_table()
    if state is IncidentState.DECIDED:
        return decided()
    if state is IncidentState.RESOLVED:
        return apply_event(decided(), IncidentEvent.RESOLVE, NOW)
    return close(decided(), "Backfilled the table and added a freshness check.", NOW)
