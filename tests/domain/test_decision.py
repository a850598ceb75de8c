"""decide_ownership: every rule and scenario of DOMAIN.md, then verdicts, agreement and disputes."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.domain.decision import (
    RULE_TEXT,
    DecisionStatus,
    DisputeKind,
    OwnershipDecision,
    Rule,
    decide_ownership,
)
from bot.domain.models import Asset, Owner, Side, Verdict
from tests.domain.builders import (
    ALL_REFS,
    BACKFILLS,
    DATA_REFS,
    DRIFT,
    ENDPOINT,
    FAILED_JOB,
    FAILED_JOBS,
    FEATURE,
    FRESHNESS,
    LABELS,
    LINEAGE,
    MODEL,
    MODEL_VERSION,
    OTHER_TABLE,
    PREDICTIONS,
    PREVENTION,
    SCHEMA,
    SERVING,
    SHIFT_CHECKS,
    STALE_TABLE,
    USERS,
    VOLUME,
    all_ok_except,
    clear,
    evidence,
    need_more,
    owns,
    verdict,
    verdicts,
)

ML, DATA = Side.MLOPS, Side.DATAOPS


def assert_decision(
    decision: OwnershipDecision,
    *,
    owner: Owner,
    primary: Side | None,
    failed_asset: Asset | None,
    rule: Rule,
    rationale: Sequence[str],
) -> None:
    assert decision.owner is owner
    assert decision.primary is primary
    assert decision.failed_asset == failed_asset
    assert decision.rule is rule
    assert tuple(r.ref for r in decision.rationale) == tuple(rationale)
    assert decision.summary == RULE_TEXT[rule]


class TestProposalFromEvidence:
    """No verdicts yet: what the evidence alone proposes (DOMAIN.md rules 1-5)."""

    def test_serving_down_proposes_mlops(self) -> None:
        """Rule 1: an anomalous serving health item proposes MLOps, naming the endpoint."""
        decision = decide_ownership(evidence(anomalous=[SERVING], assets={SERVING: ENDPOINT}), {})
        assert_decision(
            decision,
            owner=Owner.MLOPS,
            primary=ML,
            failed_asset=ENDPOINT,
            rule=Rule.SERVING_DOWN,
            rationale=[SERVING],
        )
        assert decision.status is DecisionStatus.PROPOSED
        assert decision.awaiting == (ML, DATA)

    def test_serving_down_falls_back_to_the_incidents_endpoint(self) -> None:
        """With no asset on the item, the incident's first endpoint or model is the failed asset."""
        decision = decide_ownership(evidence(anomalous=[SERVING]), {}, [STALE_TABLE, ENDPOINT, MODEL])
        assert decision.failed_asset == ENDPOINT

    def test_serving_down_outranks_a_model_release(self) -> None:
        """Serving down and a new version together: rule serving_down, both items in the rationale."""
        decision = decide_ownership(evidence(anomalous=[SERVING, MODEL_VERSION]), {}, [MODEL])
        assert_decision(
            decision,
            owner=Owner.MLOPS,
            primary=ML,
            failed_asset=MODEL,
            rule=Rule.SERVING_DOWN,
            rationale=[SERVING, MODEL_VERSION],
        )

    def test_new_model_version_proposes_mlops(self) -> None:
        """A new model version or alias change proposes MLOps under the model-release rule."""
        decision = decide_ownership(evidence(anomalous=[MODEL_VERSION], assets={MODEL_VERSION: MODEL}), {})
        assert_decision(
            decision,
            owner=Owner.MLOPS,
            primary=ML,
            failed_asset=MODEL,
            rule=Rule.MODEL_RELEASE,
            rationale=[MODEL_VERSION],
        )

    def test_model_release_with_symptoms_stays_mlops(self) -> None:
        """A new version plus prediction symptoms is still MLOps: the symptoms are listed as reasons."""
        decision = decide_ownership(
            evidence(anomalous=[MODEL_VERSION, PREDICTIONS], ok=DATA_REFS), {}, [MODEL]
        )
        assert_decision(
            decision,
            owner=Owner.MLOPS,
            primary=ML,
            failed_asset=MODEL,
            rule=Rule.MODEL_RELEASE,
            rationale=[MODEL_VERSION, PREDICTIONS],
        )

    def test_stale_table_proposes_dataops_naming_the_table(self) -> None:
        """Rule 2: a stale upstream table proposes DataOps with that table as the failed asset."""
        decision = decide_ownership(
            evidence(anomalous=[FRESHNESS], assets={FRESHNESS: STALE_TABLE}), {}, [ENDPOINT, OTHER_TABLE]
        )
        assert_decision(
            decision,
            owner=Owner.DATAOPS,
            primary=DATA,
            failed_asset=STALE_TABLE,
            rule=Rule.UPSTREAM_DATA,
            rationale=[FRESHNESS],
        )

    def test_stale_features_with_model_symptoms_stay_dataops(self) -> None:
        """Rule 2: stale features plus drift and bad predictions is DataOps; the symptoms are downstream."""
        decision = decide_ownership(
            evidence(anomalous=[FRESHNESS, DRIFT, PREDICTIONS], assets={FRESHNESS: STALE_TABLE}), {}
        )
        assert_decision(
            decision,
            owner=Owner.DATAOPS,
            primary=DATA,
            failed_asset=STALE_TABLE,
            rule=Rule.UPSTREAM_DATA,
            rationale=[FRESHNESS, PREDICTIONS, DRIFT],
        )
        assert "downstream effect" in decision.rationale[1].text

    @pytest.mark.parametrize(
        ("ref", "asset"),
        [
            (FAILED_JOBS, FAILED_JOB),
            (SCHEMA, STALE_TABLE),
            (BACKFILLS, STALE_TABLE),
            (VOLUME, STALE_TABLE),
            (LINEAGE, FEATURE),
        ],
        ids=["failed-job", "schema-change", "bad-backfill", "volume", "lineage"],
    )
    def test_each_upstream_failure_proposes_dataops(self, ref: str, asset: Asset) -> None:
        """Rule 2: a failed job, schema change, bad backfill, volume or lineage anomaly proposes DataOps."""
        decision = decide_ownership(evidence(anomalous=[ref], assets={ref: asset}), {})
        assert_decision(
            decision,
            owner=Owner.DATAOPS,
            primary=DATA,
            failed_asset=asset,
            rule=Rule.UPSTREAM_DATA,
            rationale=[ref],
        )

    def test_upstream_failure_falls_back_to_the_incidents_data_asset(self) -> None:
        """With no asset on the item, the incident's first table, job or feature is the failed asset."""
        decision = decide_ownership(
            evidence(anomalous=[FAILED_JOBS]), {}, [ENDPOINT, FAILED_JOB, STALE_TABLE]
        )
        assert decision.failed_asset == FAILED_JOB

    def test_both_sides_anomalous_is_joint_with_dataops_primary(self) -> None:
        """Rule 4: serving down and a stale table is joint, DataOps primary, both sides named."""
        decision = decide_ownership(
            evidence(
                anomalous=[SERVING, FRESHNESS, DRIFT], assets={FRESHNESS: STALE_TABLE, SERVING: ENDPOINT}
            ),
            {},
        )
        assert_decision(
            decision,
            owner=Owner.JOINT,
            primary=DATA,
            failed_asset=STALE_TABLE,
            rule=Rule.BOTH_SIDES,
            rationale=[FRESHNESS, SERVING, DRIFT],
        )
        texts = [r.text for r in decision.rationale]
        assert "primary suspect" in texts[0]
        assert "model side" in texts[1]
        assert "downstream effect" in texts[2]

    def test_release_and_backfill_is_joint_with_dataops_primary(self) -> None:
        """Rule 4: a new model version and a backfill in the window is joint, DataOps primary."""
        decision = decide_ownership(evidence(anomalous=[MODEL_VERSION, BACKFILLS]), {}, [MODEL, STALE_TABLE])
        assert_decision(
            decision,
            owner=Owner.JOINT,
            primary=DATA,
            failed_asset=STALE_TABLE,
            rule=Rule.BOTH_SIDES,
            rationale=[BACKFILLS, MODEL_VERSION],
        )

    def test_drift_with_healthy_data_is_a_population_shift(self) -> None:
        """Rule 3: drift with freshness, volume, schema and lineage ok: joint, MLOps primary (retraining)."""
        decision = decide_ownership(
            evidence(anomalous=[DRIFT], ok=SHIFT_CHECKS, assets={DRIFT: MODEL}), {}, [ENDPOINT]
        )
        assert_decision(
            decision,
            owner=Owner.JOINT,
            primary=ML,
            failed_asset=MODEL,
            rule=Rule.POPULATION_SHIFT,
            rationale=[DRIFT, *SHIFT_CHECKS],
        )
        assert all("is healthy" in r.text for r in decision.rationale[1:])

    def test_population_shift_accepts_not_applicable_checks(self) -> None:
        """Not-applicable data checks count as sound; jobs and backfills need not be known."""
        decision = decide_ownership(
            evidence(anomalous=[LABELS], ok=[FRESHNESS, VOLUME], na=[SCHEMA, LINEAGE]), {}, [ENDPOINT]
        )
        assert decision.rule is Rule.POPULATION_SHIFT
        assert decision.failed_asset == ENDPOINT
        assert set(decision.missing) >= {FAILED_JOBS, BACKFILLS}

    def test_drift_with_data_side_unknown_asks_for_data_evidence(self) -> None:
        """Drift with the data side unknown proposes no owner and lists the data items still missing."""
        decision = decide_ownership(evidence(anomalous=[DRIFT], assets={DRIFT: MODEL}), {})
        assert_decision(
            decision,
            owner=Owner.UNDETERMINED,
            primary=None,
            failed_asset=None,
            rule=Rule.SYMPTOMS_NEED_DATA,
            rationale=[DRIFT],
        )
        assert set(DATA_REFS) <= set(decision.missing)

    def test_drift_with_one_data_check_unknown_is_still_undetermined(self) -> None:
        """Three of the four shift checks ok is not enough: lineage unknown keeps it undetermined."""
        decision = decide_ownership(evidence(anomalous=[DRIFT], ok=[FRESHNESS, VOLUME, SCHEMA]), {})
        assert decision.rule is Rule.SYMPTOMS_NEED_DATA
        assert decision.owner is Owner.UNDETERMINED
        assert LINEAGE in decision.missing

    def test_drift_with_no_data_checklist_at_all_is_undetermined(self) -> None:
        """Symptoms with no data-side items at all are not a population shift: no owner is guessed."""
        decision = decide_ownership(evidence(anomalous=[DRIFT], only=ML), {}, [MODEL])
        assert decision.rule is Rule.SYMPTOMS_NEED_DATA
        assert decision.owner is Owner.UNDETERMINED

    def test_nothing_anomalous_lists_every_missing_item(self) -> None:
        """Rule 5: nothing anomalous proposes no owner and asks for every unknown item, in checklist order."""
        decision = decide_ownership(evidence(), {}, [ENDPOINT, STALE_TABLE])
        assert_decision(
            decision,
            owner=Owner.UNDETERMINED,
            primary=None,
            failed_asset=None,
            rule=Rule.NO_ANOMALY,
            rationale=[],
        )
        assert decision.missing == ALL_REFS

    def test_everything_ok_is_still_no_owner(self) -> None:
        """Everything known and ok: no owner, nothing missing."""
        decision = decide_ownership(all_ok_except(), {})
        assert decision.rule is Rule.NO_ANOMALY
        assert decision.owner is Owner.UNDETERMINED
        assert decision.missing == ()

    def test_missing_lists_only_unknown_items(self) -> None:
        """Items that are ok, anomalous or not applicable are not missing."""
        decision = decide_ownership(evidence(anomalous=[SERVING], ok=[FRESHNESS], na=[BACKFILLS]), {})
        assert set(decision.missing) == set(ALL_REFS) - {SERVING, FRESHNESS, BACKFILLS}

    def test_reason_text_carries_side_label_and_detail(self) -> None:
        """A reason reads side, item, why and the item's detail line."""
        decision = decide_ownership(evidence(anomalous=[FRESHNESS]), {})
        assert (
            decision.rationale[0].text
            == "DataOps Table freshness is anomalous: dataops.table_freshness checked"
        )


class TestAgreedVerdicts:
    """Both sides confirmed and the verdicts agree: the decision is posted."""

    def test_mlops_owns_and_dataops_clear_is_agreed_to_mlops(self) -> None:
        """Serving down, MLOps owns, DataOps clear: agreed to MLOps with the verdict's asset and preventer."""
        decision = decide_ownership(
            all_ok_except(SERVING), verdicts(owns(ML, MODEL), clear(DATA)), [ENDPOINT]
        )
        assert decision.status is DecisionStatus.AGREED
        assert_decision(
            decision,
            owner=Owner.MLOPS,
            primary=ML,
            failed_asset=MODEL,
            rule=Rule.SERVING_DOWN,
            rationale=[SERVING],
        )
        assert decision.prevention_owner == PREVENTION[ML]
        assert decision.confirmed_by == USERS
        assert decision.awaiting == ()
        assert decision.disputes == ()

    def test_dataops_owns_and_mlops_clear_is_agreed_to_dataops(self) -> None:
        """Stale table and drift, DataOps owns, MLOps clear: agreed to DataOps, naming the verdict's table."""
        decision = decide_ownership(
            all_ok_except(FRESHNESS, DRIFT, assets={FRESHNESS: OTHER_TABLE}),
            verdicts(clear(ML), owns(DATA, STALE_TABLE)),
        )
        assert decision.status is DecisionStatus.AGREED
        assert_decision(
            decision,
            owner=Owner.DATAOPS,
            primary=DATA,
            failed_asset=STALE_TABLE,
            rule=Rule.UPSTREAM_DATA,
            rationale=[FRESHNESS, DRIFT],
        )
        assert decision.prevention_owner == PREVENTION[DATA]

    def test_owner_verdict_without_asset_keeps_the_proposed_asset(self) -> None:
        """An owning verdict that names no asset leaves the evidence's failed asset in place."""
        bare = verdict(DATA, owns(DATA).kind).model_copy(update={"asset": None})
        decision = decide_ownership(
            all_ok_except(FRESHNESS, assets={FRESHNESS: STALE_TABLE}), verdicts(clear(ML), bare)
        )
        assert decision.status is DecisionStatus.AGREED
        assert decision.failed_asset == STALE_TABLE

    def test_mlops_owning_a_population_shift_is_joint(self) -> None:
        """Population shift, MLOps owns, DataOps clear: joint with MLOps primary (retraining signal)."""
        decision = decide_ownership(
            evidence(anomalous=[DRIFT], ok=SHIFT_CHECKS), verdicts(owns(ML, MODEL), clear(DATA))
        )
        assert decision.status is DecisionStatus.AGREED
        assert_decision(
            decision,
            owner=Owner.JOINT,
            primary=ML,
            failed_asset=MODEL,
            rule=Rule.POPULATION_SHIFT,
            rationale=[DRIFT, *SHIFT_CHECKS],
        )

    def test_both_own_with_upstream_anomaly_is_joint_dataops_primary(self) -> None:
        """Both own after serving down and a stale table: joint, DataOps primary, with DataOps's asset."""
        decision = decide_ownership(
            all_ok_except(SERVING, FRESHNESS), verdicts(owns(ML, ENDPOINT), owns(DATA, STALE_TABLE))
        )
        assert decision.status is DecisionStatus.AGREED
        assert_decision(
            decision,
            owner=Owner.JOINT,
            primary=DATA,
            failed_asset=STALE_TABLE,
            rule=Rule.BOTH_SIDES,
            rationale=[FRESHNESS, SERVING],
        )
        assert decision.prevention_owner == PREVENTION[DATA]

    def test_both_own_with_only_model_anomalies_is_joint_mlops_primary(self) -> None:
        """Both own while only model evidence is anomalous: joint with MLOps primary."""
        decision = decide_ownership(
            all_ok_except(SERVING), verdicts(owns(ML, ENDPOINT), owns(DATA, STALE_TABLE))
        )
        assert decision.status is DecisionStatus.AGREED
        assert decision.owner is Owner.JOINT
        assert decision.primary is ML
        assert decision.failed_asset == ENDPOINT
        assert decision.prevention_owner == PREVENTION[ML]
        assert decision.rule is Rule.CONFIRMED_BY_SIDES

    def test_both_own_with_nothing_anomalous_defaults_to_dataops_primary(self) -> None:
        """Both own with no anomalous evidence: joint, DataOps primary (the upstream side)."""
        decision = decide_ownership(evidence(), verdicts(owns(ML, ENDPOINT), owns(DATA, STALE_TABLE)))
        assert decision.status is DecisionStatus.AGREED
        assert (decision.owner, decision.primary) == (Owner.JOINT, DATA)

    def test_verdicts_overriding_the_evidence_name_the_confirmed_rule(self) -> None:
        """Nothing anomalous, MLOps owns, DataOps clear: agreed to MLOps under the confirmed-by-sides rule."""
        decision = decide_ownership(evidence(), verdicts(owns(ML, MODEL), clear(DATA)))
        assert decision.status is DecisionStatus.AGREED
        assert decision.owner is Owner.MLOPS
        assert decision.rule is Rule.CONFIRMED_BY_SIDES
        assert "no owner" not in decision.summary

    def test_dataops_owning_symptoms_only_overrides_the_shift_proposal(self) -> None:
        """Drift with healthy data, but DataOps owns and MLOps clear: agreed to DataOps by the sides' word."""
        decision = decide_ownership(
            evidence(anomalous=[DRIFT], ok=SHIFT_CHECKS), verdicts(clear(ML), owns(DATA, STALE_TABLE))
        )
        assert decision.status is DecisionStatus.AGREED
        assert (decision.owner, decision.primary) == (Owner.DATAOPS, DATA)
        assert decision.rule is Rule.CONFIRMED_BY_SIDES


class TestPendingVerdicts:
    """Not both sides confirmed: the decision stays a proposal."""

    def test_no_verdicts_awaits_both_sides(self) -> None:
        """With no verdicts the proposal awaits both sides and names no confirmer."""
        decision = decide_ownership(all_ok_except(FRESHNESS), {})
        assert decision.status is DecisionStatus.PROPOSED
        assert decision.awaiting == (ML, DATA)
        assert decision.confirmed_by == {}

    def test_one_verdict_awaits_the_other_side(self) -> None:
        """One side confirmed: the other side is awaited, the proposal unchanged."""
        decision = decide_ownership(all_ok_except(FRESHNESS), verdicts(owns(DATA)))
        assert decision.status is DecisionStatus.PROPOSED
        assert decision.awaiting == (ML,)
        assert decision.confirmed_by == {DATA: USERS[DATA]}
        assert decision.owner is Owner.DATAOPS

    def test_need_more_keeps_the_proposal_awaiting_that_side(self) -> None:
        """A "need more evidence" verdict is not a confirmation: still proposed, that side awaited."""
        decision = decide_ownership(all_ok_except(FRESHNESS), verdicts(need_more(ML), owns(DATA)))
        assert decision.status is DecisionStatus.PROPOSED
        assert decision.awaiting == (ML,)
        assert ML not in decision.confirmed_by
        assert decision.disputes == ()

    def test_both_need_more_awaits_both(self) -> None:
        """Both sides asking for more evidence leaves both awaited."""
        decision = decide_ownership(evidence(), verdicts(need_more(ML), need_more(DATA)))
        assert decision.status is DecisionStatus.PROPOSED
        assert decision.awaiting == (ML, DATA)


class TestDisputes:
    """Both sides confirmed but the verdicts conflict with each other or with the evidence."""

    def test_both_clear_while_anomalies_exist_is_a_dispute(self) -> None:
        """Both say clear while evidence is anomalous: disputed, showing the anomalous items."""
        decision = decide_ownership(all_ok_except(SERVING, FRESHNESS), verdicts(clear(ML), clear(DATA)))
        assert decision.status is DecisionStatus.DISPUTED
        [dispute] = decision.disputes
        assert dispute.kind is DisputeKind.BOTH_CLEAR
        assert dispute.evidence == (SERVING, FRESHNESS)
        assert "anomalous" in dispute.text

    def test_both_clear_with_no_anomalies_is_a_dispute(self) -> None:
        """Both say clear with nothing anomalous: still disputed, since no asset is named as failed."""
        decision = decide_ownership(all_ok_except(), verdicts(clear(ML), clear(DATA)))
        assert decision.status is DecisionStatus.DISPUTED
        [dispute] = decision.disputes
        assert dispute.kind is DisputeKind.BOTH_CLEAR
        assert dispute.evidence == ()
        assert "false alarm" in dispute.text

    def test_dataops_clear_with_its_own_anomaly_is_a_dispute(self) -> None:
        """DataOps says clear while its freshness is anomalous: disputed, naming that item."""
        decision = decide_ownership(all_ok_except(FRESHNESS, SERVING), verdicts(owns(ML), clear(DATA)))
        assert decision.status is DecisionStatus.DISPUTED
        [dispute] = decision.disputes
        assert dispute.kind is DisputeKind.CLEAR_WITH_ANOMALY
        assert dispute.evidence == (FRESHNESS,)
        assert "DataOps" in dispute.text

    def test_mlops_clear_with_serving_down_is_a_dispute_even_if_dataops_owns(self) -> None:
        """Serving health is never excused: MLOps clear with serving down is disputed though DataOps owns."""
        decision = decide_ownership(all_ok_except(SERVING, FRESHNESS), verdicts(clear(ML), owns(DATA)))
        assert decision.status is DecisionStatus.DISPUTED
        [dispute] = decision.disputes
        assert dispute.kind is DisputeKind.CLEAR_WITH_ANOMALY
        assert dispute.evidence == (SERVING,)

    def test_mlops_clear_with_a_new_release_is_a_dispute_even_if_dataops_owns(self) -> None:
        """A model release is MLOps's own change, not a symptom: clear with it anomalous is disputed."""
        decision = decide_ownership(all_ok_except(MODEL_VERSION, FRESHNESS), verdicts(clear(ML), owns(DATA)))
        assert decision.status is DecisionStatus.DISPUTED
        assert decision.disputes[0].evidence == (MODEL_VERSION,)

    @pytest.mark.parametrize("symptom", [DRIFT, PREDICTIONS, LABELS])
    def test_mlops_symptoms_are_excused_when_dataops_owns(self, symptom: str) -> None:
        """Rule 4: drift, predictions or labels anomalous do not dispute MLOps's clear when DataOps owns."""
        decision = decide_ownership(all_ok_except(symptom, FRESHNESS), verdicts(clear(ML), owns(DATA)))
        assert decision.status is DecisionStatus.AGREED
        assert decision.owner is Owner.DATAOPS

    def test_mlops_symptoms_are_not_excused_when_dataops_is_clear(self) -> None:
        """With DataOps also clear, anomalous symptoms make it a both-clear dispute."""
        decision = decide_ownership(all_ok_except(DRIFT), verdicts(clear(ML), clear(DATA)))
        assert decision.status is DecisionStatus.DISPUTED
        assert decision.disputes[0].kind is DisputeKind.BOTH_CLEAR
        assert decision.disputes[0].evidence == (DRIFT,)

    def test_dataops_symptoms_have_no_excuse(self) -> None:
        """Data evidence is never excused: DataOps clear with a failed job is disputed while MLOps owns."""
        decision = decide_ownership(all_ok_except(FAILED_JOBS, DRIFT), verdicts(owns(ML), clear(DATA)))
        assert decision.status is DecisionStatus.DISPUTED
        assert decision.disputes[0].evidence == (FAILED_JOBS,)

    def test_both_claiming_the_same_asset_is_a_dispute(self) -> None:
        """Both sides own the same asset: disputed until they agree whose asset it is."""
        decision = decide_ownership(
            all_ok_except(SERVING, FRESHNESS), verdicts(owns(ML, STALE_TABLE), owns(DATA, STALE_TABLE))
        )
        assert decision.status is DecisionStatus.DISPUTED
        [dispute] = decision.disputes
        assert dispute.kind is DisputeKind.SAME_ASSET
        assert str(STALE_TABLE) in dispute.text

    def test_a_dispute_keeps_the_evidence_proposal(self) -> None:
        """A disputed decision still carries the evidence's owner, rule and rationale, and awaits nobody."""
        decision = decide_ownership(all_ok_except(FRESHNESS), verdicts(clear(ML), clear(DATA)))
        assert decision.status is DecisionStatus.DISPUTED
        assert (decision.owner, decision.rule) == (Owner.DATAOPS, Rule.UPSTREAM_DATA)
        assert decision.awaiting == ()
        assert decision.confirmed_by == USERS


class TestPurity:
    """decide_ownership is a function of its arguments."""

    def test_inputs_are_not_changed_and_results_repeat(self) -> None:
        """Deciding twice gives equal decisions and leaves evidence and verdicts as they were."""
        items = all_ok_except(SERVING, FRESHNESS)
        given: dict[Side, Verdict] = verdicts(owns(ML, ENDPOINT), owns(DATA, STALE_TABLE))
        snapshot = ([i.model_dump() for i in items], {s: v.model_dump() for s, v in given.items()})
        first = decide_ownership(items, given)
        assert decide_ownership(iter(items), given) == first
        assert ([i.model_dump() for i in items], {s: v.model_dump() for s, v in given.items()}) == snapshot

    def test_every_rule_has_a_text(self) -> None:
        """Every rule has the sentence the decision card shows."""
        assert set(RULE_TEXT) == set(Rule)
