"""The incident state machine: the transition table pair by pair, and a stateful run of the operations."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bot.domain.decision import DecisionStatus, decide_ownership
from bot.domain.errors import IllegalTransition, InvalidInput
from bot.domain.incident import (
    Incident,
    ReminderState,
    apply_event,
    close,
    confirm_side,
    record_evidence,
    reopen,
)
from bot.domain.models import EvidenceStatus, IncidentState, Side, VerdictKind
from bot.domain.state import ACTIVE_STATES, TRANSITIONS, IncidentEvent, allowed_events, next_state
from tests.domain.builders import ALL_REFS, NOW, PERSON, STALE_TABLE, incident_in, new_incident, verdict

S = IncidentState
E = IncidentEvent

# Written out independently of bot.domain.state, so a change to the table must change this test too.
EXPECTED: dict[tuple[IncidentState, IncidentEvent], IncidentState] = {
    (S.OPEN, E.INVESTIGATE): S.INVESTIGATING,
    (S.OPEN, E.DECIDE): S.DECIDED,
    (S.INVESTIGATING, E.DECIDE): S.DECIDED,
    (S.DECIDED, E.REOPEN): S.INVESTIGATING,
    (S.DECIDED, E.RESOLVE): S.RESOLVED,
    (S.RESOLVED, E.REOPEN): S.INVESTIGATING,
    (S.RESOLVED, E.CLOSE): S.CLOSED,
}
ALL_PAIRS = list(itertools.product(IncidentState, IncidentEvent))
LEGAL = [p for p in ALL_PAIRS if p in EXPECTED]
ILLEGAL = [p for p in ALL_PAIRS if p not in EXPECTED]


def _pair_id(pair: tuple[IncidentState, IncidentEvent]) -> str:
    return f"{pair[0].value}-{pair[1].value}"


class TestTransitionTable:
    def test_table_is_exactly_the_documented_one(self) -> None:
        """The table holds the seven documented moves and nothing else."""
        assert dict(TRANSITIONS) == EXPECTED

    def test_every_pair_is_classified(self) -> None:
        """Every (state, event) pair is either legal or illegal: 25 pairs, 7 legal."""
        assert len(ALL_PAIRS) == 25
        assert len(LEGAL) == 7
        assert len(ILLEGAL) == 18

    @pytest.mark.parametrize("pair", LEGAL, ids=_pair_id)
    def test_legal_pair_moves_as_the_table_says(self, pair: tuple[IncidentState, IncidentEvent]) -> None:
        """A legal event moves to the state the table names."""
        state, event = pair
        assert next_state(state, event) is EXPECTED[pair]

    @pytest.mark.parametrize("pair", ILLEGAL, ids=_pair_id)
    def test_illegal_pair_raises_naming_state_and_event(
        self, pair: tuple[IncidentState, IncidentEvent]
    ) -> None:
        """An illegal event raises IllegalTransition whose message names the event and the state."""
        state, event = pair
        with pytest.raises(
            IllegalTransition, match=rf"Cannot {event.value} an incident that is {state.value}"
        ):
            next_state(state, event)

    @pytest.mark.parametrize("state", list(IncidentState), ids=str)
    def test_allowed_events_agree_with_the_table(self, state: IncidentState) -> None:
        """allowed_events lists exactly the events with a row for that state."""
        assert allowed_events(state) == {e for (s, e) in EXPECTED if s is state}

    def test_closed_is_terminal_and_the_only_inactive_state(self) -> None:
        """Closed allows no event and is the one state outside ACTIVE_STATES."""
        assert allowed_events(S.CLOSED) == frozenset()
        assert set(IncidentState) - ACTIVE_STATES == {S.CLOSED}


class TestApplyEvent:
    @pytest.mark.parametrize("pair", ILLEGAL, ids=_pair_id)
    def test_illegal_event_raises_and_changes_nothing(
        self, pair: tuple[IncidentState, IncidentEvent]
    ) -> None:
        """apply_event with an illegal event raises and leaves the incident exactly as it was."""
        state, event = pair
        incident = incident_in(state)
        before = incident.model_dump()
        with pytest.raises(IllegalTransition):
            apply_event(incident, event, NOW + timedelta(hours=1))
        assert incident.model_dump() == before

    @pytest.mark.parametrize(
        "pair", [p for p in LEGAL if p[1] is not E.DECIDE and p[1] is not E.CLOSE], ids=_pair_id
    )
    def test_legal_event_moves_and_stamps_updated_at(self, pair: tuple[IncidentState, IncidentEvent]) -> None:
        """A legal event returns a new incident in the next state, stamped; the original is untouched."""
        state, event = pair
        incident = incident_in(state)
        later = NOW + timedelta(hours=1)
        moved = apply_event(incident, event, later)
        assert moved.state is EXPECTED[pair]
        assert moved.updated_at == later
        assert incident.state is state

    @pytest.mark.parametrize("state", [S.OPEN, S.INVESTIGATING], ids=str)
    def test_decide_without_an_agreed_decision_is_refused(self, state: IncidentState) -> None:
        """Decide from open or investigating needs an agreed decision on the incident, not just the table."""
        incident = incident_in(state)
        with pytest.raises(IllegalTransition, match="agreeing verdicts"):
            apply_event(incident, E.DECIDE, NOW)

    def test_decide_with_a_proposed_decision_is_refused(self) -> None:
        """A proposal (not agreed) attached to the incident does not allow decide."""
        incident = incident_in(S.INVESTIGATING)
        incident = incident.model_copy(update={"decision": incident.proposal()})
        assert incident.decision is not None
        assert incident.decision.status is DecisionStatus.PROPOSED
        with pytest.raises(IllegalTransition):
            apply_event(incident, E.DECIDE, NOW)

    def test_close_without_a_resolution_note_is_refused(self) -> None:
        """A resolved incident with no resolution note cannot be closed by the bare event."""
        incident = incident_in(S.RESOLVED)
        assert incident.resolution_note is None
        with pytest.raises(IllegalTransition, match="resolution note"):
            apply_event(incident, E.CLOSE, NOW)

    def test_close_with_decision_and_note_is_allowed(self) -> None:
        """A resolved incident with a decision and a note closes through the bare event."""
        incident = incident_in(S.RESOLVED).model_copy(update={"resolution_note": "fixed"})
        assert apply_event(incident, E.CLOSE, NOW).state is S.CLOSED


DECISION_STATES = {S.DECIDED, S.RESOLVED, S.CLOSED}
NOTES = st.sampled_from(["", "   ", "Backfilled and added a freshness check.", "Rolled back to v6"])


class IncidentLifecycle(RuleBasedStateMachine):
    """Drives one incident through every operation, legal or not, and checks the invariants after each."""

    def __init__(self) -> None:
        super().__init__()
        self.incident: Incident = new_incident()
        self.clock = NOW
        self.decisions_made = 0

    def tick(self) -> None:
        self.clock += timedelta(minutes=1)

    def refuse(self, error: type[Exception], call: object, *args: object) -> None:
        """The call must raise `error` and leave the incident as it was."""
        before = self.incident.model_dump()
        with pytest.raises(error):
            call(*args)  # type: ignore[operator]
        assert self.incident.model_dump() == before

    @rule(ref=st.sampled_from(ALL_REFS), status=st.sampled_from(EvidenceStatus), with_asset=st.booleans())
    def record(self, ref: str, status: EvidenceStatus, with_asset: bool) -> None:
        self.tick()
        asset = STALE_TABLE if with_asset else None
        if not self.incident.awaiting_decision:
            self.refuse(
                IllegalTransition,
                record_evidence,
                self.incident,
                ref,
                status,
                "d",
                PERSON,
                self.clock,
                None,
                asset,
            )
            return
        updated = record_evidence(self.incident, ref, status, "d", PERSON, self.clock, asset=asset)
        assert updated.state is S.INVESTIGATING
        assert updated.evidence[ref].status is status
        assert updated.reminders == ReminderState()
        assert updated.verdicts == self.incident.verdicts
        self.incident = updated

    @rule(ref=st.text(max_size=8).filter(lambda r: r not in ALL_REFS))
    def record_unknown_item(self, ref: str) -> None:
        if self.incident.awaiting_decision:
            self.refuse(InvalidInput, record_evidence, self.incident, ref, EvidenceStatus.OK, "", PERSON, NOW)

    @rule()
    def a_reminder_is_sent(self) -> None:
        sent = self.incident.reminders.sent + 1
        self.incident = self.incident.model_copy(update={"reminders": ReminderState(sent=sent)})

    @rule(side=st.sampled_from(Side), kind=st.sampled_from(VerdictKind))
    def confirm(self, side: Side, kind: VerdictKind) -> None:
        self.tick()
        given = verdict(side, kind, at=self.clock)
        if not self.incident.awaiting_decision:
            self.refuse(IllegalTransition, confirm_side, self.incident, given, self.clock)
            return
        before = self.incident
        updated, decision = confirm_side(before, given, self.clock)
        if decision.status is DecisionStatus.AGREED:
            assert updated.state is S.DECIDED
            assert updated.decision == decision
            self.decisions_made += 1
        elif decision.status is DecisionStatus.DISPUTED:
            assert updated.state is before.state
            assert updated.verdicts == {}
            assert decision.disputes
        else:
            assert updated.state is before.state
            assert updated.verdicts[side] == given
            assert updated.decision is None
        self.incident = updated

    @rule()
    def reopen_it(self) -> None:
        self.tick()
        if self.incident.state not in (S.DECIDED, S.RESOLVED):
            self.refuse(IllegalTransition, reopen, self.incident, self.clock)
            return
        updated = reopen(self.incident, self.clock)
        assert updated.evidence == self.incident.evidence
        assert updated.state is S.INVESTIGATING
        assert updated.verdicts == {}
        self.incident = updated
        self.decisions_made = 0

    @rule(note=NOTES)
    def close_it(self, note: str) -> None:
        self.tick()
        if not note.strip():
            self.refuse(InvalidInput, close, self.incident, note, self.clock)
        elif self.incident.state not in (S.DECIDED, S.RESOLVED):
            self.refuse(IllegalTransition, close, self.incident, note, self.clock)
        else:
            updated = close(self.incident, note, self.clock)
            assert updated.state is S.CLOSED
            assert updated.decision == self.incident.decision
            self.incident = updated

    @rule(event=st.sampled_from(IncidentEvent))
    def bare_event(self, event: IncidentEvent) -> None:
        self.tick()
        state = self.incident.state
        legal = (state, event) in EXPECTED
        if event is E.DECIDE:
            legal = legal and self.incident.decision is not None
        if event is E.CLOSE:
            legal = legal and bool(self.incident.resolution_note)
        if not legal:
            self.refuse(IllegalTransition, apply_event, self.incident, event, self.clock)
            return
        if event is E.REOPEN:
            # The bare event only moves the state; reopening through the operation clears the decision.
            self.incident = reopen(self.incident, self.clock)
            self.decisions_made = 0
            return
        self.incident = apply_event(self.incident, event, self.clock)
        assert self.incident.state is EXPECTED[(state, event)]

    @invariant()
    def state_is_a_known_state(self) -> None:
        assert self.incident.state in set(IncidentState)

    @invariant()
    def a_decision_exists_iff_decided_resolved_or_closed(self) -> None:
        assert (self.incident.decision is not None) == (self.incident.state in DECISION_STATES)

    @invariant()
    def the_decision_comes_from_both_sides_agreeing_verdicts(self) -> None:
        decision = self.incident.decision
        if decision is None:
            return
        assert decision.status is DecisionStatus.AGREED
        assert set(self.incident.verdicts) == set(Side)
        assert all(v.kind is not VerdictKind.NEED_MORE for v in self.incident.verdicts.values())
        # Evidence and verdicts are frozen once decided, so re-deciding reproduces the posted decision.
        incident = self.incident
        assert decide_ownership(incident.evidence.values(), incident.verdicts, incident.assets) == decision

    @invariant()
    def closed_only_with_a_decision_and_a_note(self) -> None:
        if self.incident.state is S.CLOSED:
            assert self.incident.decision is not None
            assert self.incident.resolution_note
            assert self.incident.resolution_note == self.incident.resolution_note.strip()

    @invariant()
    def at_most_one_decision_since_the_last_reopen(self) -> None:
        assert self.decisions_made <= 1


IncidentLifecycle.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestIncidentLifecycle = IncidentLifecycle.TestCase
