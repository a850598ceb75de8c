"""Stateful: evidence updates, verdicts, revisions and confirmations never yield a decision without agreement,
and never two decisions without a reopen in between."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bot.domain.decision import DecisionStatus
from bot.domain.errors import IllegalTransition
from bot.domain.incident import Incident, apply_event, close, confirm_side, record_evidence, reopen
from bot.domain.models import EvidenceItem, EvidenceStatus, IncidentState, Side, Verdict, VerdictKind
from bot.domain.state import IncidentEvent
from tests.domain.builders import (
    ALL_REFS,
    ENDPOINT,
    MODEL,
    NOW,
    PERSON,
    PREVENTION,
    STALE_TABLE,
    SYMPTOM_REFS,
    USERS,
    new_incident,
)

S = IncidentState
ASSETS = [STALE_TABLE, ENDPOINT, MODEL]
# Weighted towards anomalies so that disputes of every kind come up within a modest number of examples.
STATUSES = st.sampled_from([EvidenceStatus.ANOMALOUS] * 3 + list(EvidenceStatus))


def agreeing(evidence: Iterable[EvidenceItem], ml: Verdict, data: Verdict) -> bool:
    """DOMAIN.md's agreement, written independently of bot.domain.decision."""
    kinds = {ml.kind, data.kind}
    if VerdictKind.NEED_MORE in kinds or kinds == {VerdictKind.CLEAR}:
        return False
    if kinds == {VerdictKind.OWNS}:
        return ml.asset != data.asset
    clear_side = Side.MLOPS if ml.kind is VerdictKind.CLEAR else Side.DATAOPS
    own_anomalies = [i.ref for i in evidence if i.side is clear_side and i.status is EvidenceStatus.ANOMALOUS]
    if clear_side is Side.MLOPS:  # model symptoms are the data failure's downstream effect (rule 4)
        own_anomalies = [r for r in own_anomalies if r not in SYMPTOM_REFS]
    return not own_anomalies


class ConfirmationRace(RuleBasedStateMachine):
    """Responders of both sides record evidence, confirm, revise and reopen in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.incident: Incident = new_incident()
        self.clock = NOW
        self.given: dict[Side, Verdict] = {}  # the model: verdicts standing since the last clear
        self.decisions_since_reopen = 0

    def advance(self, updated: Incident) -> None:
        if self.incident.state is not S.DECIDED and updated.state is S.DECIDED:
            self.decisions_since_reopen += 1
        self.incident = updated

    def now(self) -> object:
        self.clock += timedelta(seconds=30)
        return self.clock

    @rule(ref=st.sampled_from(ALL_REFS), status=STATUSES)
    def update_evidence(self, ref: str, status: EvidenceStatus) -> None:
        if not self.incident.awaiting_decision:
            with pytest.raises(IllegalTransition):
                record_evidence(self.incident, ref, status, "", PERSON, self.clock)
            return
        self.advance(record_evidence(self.incident, ref, status, "", PERSON, self.clock))

    @rule(side=st.sampled_from(Side), kind=st.sampled_from(VerdictKind), asset=st.sampled_from(ASSETS))
    def confirm_or_revise(self, side: Side, kind: VerdictKind, asset: object) -> None:
        owning = kind is VerdictKind.OWNS
        given = Verdict(
            side=side,
            kind=kind,
            asset=asset if owning else None,
            prevention_owner=PREVENTION[side] if owning else None,
            user_id=USERS[side],
            at=self.clock,
        )
        if not self.incident.awaiting_decision:
            before = self.incident.model_dump()
            with pytest.raises(IllegalTransition):
                confirm_side(self.incident, given, self.clock)
            assert self.incident.model_dump() == before
            return
        standing = {**self.given, side: given}
        both_confirmed = len(standing) == 2 and all(
            v.kind is not VerdictKind.NEED_MORE for v in standing.values()
        )
        updated, decision = confirm_side(self.incident, given, self.clock)
        if not both_confirmed:
            assert decision.status is DecisionStatus.PROPOSED
            assert updated.state is self.incident.state
            self.given = standing
        elif agreeing(self.incident.evidence.values(), standing[Side.MLOPS], standing[Side.DATAOPS]):
            assert decision.status is DecisionStatus.AGREED
            assert updated.state is S.DECIDED
            self.given = standing
            event("agreed")
        else:
            assert decision.status is DecisionStatus.DISPUTED
            assert updated.state is self.incident.state
            self.given = {}
            event(f"disputed: {decision.disputes[0].kind.value}")
        self.advance(updated)

    @rule()
    def try_to_decide_by_hand(self) -> None:
        before = self.incident.model_dump()
        with pytest.raises(IllegalTransition):
            apply_event(self.incident, IncidentEvent.DECIDE, self.clock)
        assert self.incident.model_dump() == before

    @rule()
    def reopen_it(self) -> None:
        if self.incident.state not in (S.DECIDED, S.RESOLVED):
            with pytest.raises(IllegalTransition):
                reopen(self.incident, self.clock)
            return
        self.incident = reopen(self.incident, self.clock)
        self.given = {}
        event("reopened")
        self.decisions_since_reopen = 0

    @rule()
    def resolve_it(self) -> None:
        if self.incident.state is S.DECIDED:
            self.advance(apply_event(self.incident, IncidentEvent.RESOLVE, self.clock))

    @rule()
    def close_it(self) -> None:
        if self.incident.state in (S.DECIDED, S.RESOLVED):
            self.advance(close(self.incident, "fixed", self.clock))

    @invariant()
    def verdicts_match_the_model(self) -> None:
        assert self.incident.verdicts == self.given

    @invariant()
    def a_decision_only_after_both_confirmed_agreeing_verdicts(self) -> None:
        if self.incident.decision is None:
            assert self.incident.state in (S.OPEN, S.INVESTIGATING)
            return
        verdicts = self.incident.verdicts
        assert set(verdicts) == set(Side)
        assert agreeing(self.incident.evidence.values(), verdicts[Side.MLOPS], verdicts[Side.DATAOPS])
        assert self.incident.decision.status is DecisionStatus.AGREED
        assert self.incident.decision.confirmed_by == {s: v.user_id for s, v in verdicts.items()}

    @invariant()
    def never_two_decisions_without_a_reopen(self) -> None:
        assert self.decisions_since_reopen <= 1


ConfirmationRace.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestConfirmationRace = ConfirmationRace.TestCase
