"""The permission table (bot/domain/permissions.py): every action x every role, and the refusals' words."""

from __future__ import annotations

import pytest

from bot.domain.errors import NotAllowed
from bot.domain.incident import Incident
from bot.domain.models import IncidentState, Side
from bot.domain.permissions import (
    DEFAULT_TABLE,
    SIDE_ACTIONS,
    Action,
    Role,
    describe,
    make_table,
    may,
    needed_roles,
    require,
)
from tests.domain.builders import incident_in, new_incident

R = Role
# The roles a person can hold (the `side.*` roles are resolved against the action's side, never held).
HELD = (
    R.MLOPS_RESPONDERS,
    R.MLOPS_LEADS,
    R.DATAOPS_RESPONDERS,
    R.DATAOPS_LEADS,
    R.OPENER,
    R.CHANNEL_MEMBERS,
    R.ANYONE,
)
EITHER_SIDE = {R.MLOPS_RESPONDERS, R.MLOPS_LEADS, R.DATAOPS_RESPONDERS, R.DATAOPS_LEADS}
LEADS = {R.MLOPS_LEADS, R.DATAOPS_LEADS}
OWN = {
    Side.MLOPS: {R.MLOPS_RESPONDERS, R.MLOPS_LEADS},
    Side.DATAOPS: {R.DATAOPS_RESPONDERS, R.DATAOPS_LEADS},
}

# What the issue asks for, written out by hand (not read from the table): action -> who may.
EXPECTED_INCIDENT_WIDE: dict[Action, set[Role]] = {
    Action.SNOOZE: EITHER_SIDE,
    Action.CLOSE: EITHER_SIDE,
    Action.REOPEN: EITHER_SIDE,
    Action.REOPEN_DECIDED: LEADS,
    Action.CHANGE_SEVERITY: EITHER_SIDE,
}


def private_incident() -> Incident:
    return new_incident(private=True, opened_by="U_OPENER", channel_id="C_INC")


class TestEveryActionAndRole:
    @pytest.mark.parametrize("side", list(Side))
    @pytest.mark.parametrize("action", sorted(SIDE_ACTIONS))
    @pytest.mark.parametrize("role", HELD)
    def test_side_actions_belong_to_the_sides_own_responders_and_leads(
        self, action: Action, side: Side, role: Role
    ) -> None:
        """Setting evidence, confirming and running playbooks for a side: its responders and leads only."""
        decision = may(action, {role}, incident_in(IncidentState.INVESTIGATING), side)
        assert decision.allowed is (role in OWN[side]), (action, side, role)

    @pytest.mark.parametrize("action", sorted(EXPECTED_INCIDENT_WIDE))
    @pytest.mark.parametrize("role", HELD)
    def test_incident_wide_actions(self, action: Action, role: Role) -> None:
        """Snooze, close, reopen, change severity: responders and leads of either side; reopen decided: leads."""
        decision = may(action, {role}, incident_in(IncidentState.RESOLVED))
        assert decision.allowed is (role in EXPECTED_INCIDENT_WIDE[action]), (action, role)

    @pytest.mark.parametrize("role", HELD)
    def test_reopening_a_decided_incident_needs_a_lead(self, role: Role) -> None:
        """`reopen` on a decided incident is the reopen_decided row: the decision stands until a lead withdraws it."""
        decision = may(Action.REOPEN, {role}, incident_in(IncidentState.DECIDED))
        assert decision.action is Action.REOPEN_DECIDED
        assert decision.allowed is (role in LEADS), role

    @pytest.mark.parametrize("role", HELD)
    def test_a_private_incident_is_seen_by_its_channel_members_only(self, role: Role) -> None:
        assert may(Action.VIEW_PRIVATE, {role}, private_incident()).allowed is (role is R.CHANNEL_MEMBERS)

    @pytest.mark.parametrize("role", HELD)
    def test_a_public_incident_is_seen_by_anyone(self, role: Role) -> None:
        assert may(Action.VIEW_PRIVATE, {role}, new_incident()).allowed

    def test_every_action_has_a_row(self) -> None:
        assert set(DEFAULT_TABLE) == set(Action)

    def test_nobody_holding_nothing_may_act(self) -> None:
        """Someone in the workspace on neither side may do nothing but see public incidents."""
        incident = incident_in(IncidentState.DECIDED)
        for action in Action:
            side = Side.DATAOPS if action in SIDE_ACTIONS else None
            expected = action is Action.VIEW_PRIVATE  # the incident is public
            assert may(action, set(), incident, side).allowed is expected, action


class TestRefusals:
    def test_close_names_who_may(self) -> None:
        incident = incident_in(IncidentState.DECIDED).model_copy(update={"id": "INC-0042"})
        with pytest.raises(NotAllowed) as refused:
            require(Action.CLOSE, set(), incident)
        assert str(refused.value) == "Only MLOps or DataOps responders and leads can close INC-0042."

    def test_reopen_decided_names_the_leads(self) -> None:
        incident = incident_in(IncidentState.DECIDED)
        with pytest.raises(
            NotAllowed, match=r"^Only MLOps or DataOps leads can reopen INC-42 once it is decided"
        ):
            require(Action.REOPEN, {R.DATAOPS_RESPONDERS}, incident)

    def test_a_side_action_names_the_side(self) -> None:
        decision = may(Action.RUN_PLAYBOOK, {R.MLOPS_RESPONDERS}, new_incident(), Side.DATAOPS)
        assert decision.reason == "Only DataOps responders and leads can run DataOps playbooks on INC-42."

    def test_private_says_it_is_private(self) -> None:
        decision = may(Action.VIEW_PRIVATE, {R.MLOPS_LEADS}, private_incident())
        assert decision.reason == "INC-42 is private: only members of its channel can see it."

    def test_describe_mixed_sets(self) -> None:
        assert describe({R.DATAOPS_LEADS, R.OPENER}) == "DataOps leads or the person who opened it"
        assert describe({R.MLOPS_RESPONDERS, R.DATAOPS_LEADS}) == "MLOps responders or DataOps leads"
        assert describe({R.ANYONE, R.OPENER}) == "anyone"


class TestAckPathPrecheck:
    def test_without_the_incident_incident_roles_count_as_held(self) -> None:
        """Before the incident is read (the ack), a row naming the opener cannot refuse; the work step decides."""
        table = make_table({Action.SET_EVIDENCE: [R.SIDE_RESPONDERS, R.OPENER]})
        assert may(Action.SET_EVIDENCE, set(), None, Side.MLOPS, table).allowed
        assert not may(Action.SET_EVIDENCE, set(), new_incident(), Side.MLOPS, table).allowed
        opened = new_incident(opened_by="U1")
        assert may(Action.SET_EVIDENCE, {R.OPENER}, opened, Side.MLOPS, table).allowed

    def test_without_the_incident_side_roles_still_refuse(self) -> None:
        with pytest.raises(NotAllowed, match="Only DataOps responders and leads can set DataOps evidence"):
            require(Action.SET_EVIDENCE, {R.MLOPS_LEADS}, None, Side.DATAOPS)


class TestOverrides:
    def test_a_row_is_replaced_and_the_others_kept(self) -> None:
        table = make_table({Action.CLOSE: [R.MLOPS_LEADS, R.OPENER]})
        assert table[Action.CLOSE] == {R.MLOPS_LEADS, R.OPENER}
        assert table[Action.SNOOZE] == DEFAULT_TABLE[Action.SNOOZE]
        incident = incident_in(IncidentState.DECIDED)
        assert not may(Action.CLOSE, {R.DATAOPS_LEADS}, incident, table=table).allowed
        assert may(Action.CLOSE, {R.OPENER}, incident, table=table).allowed

    def test_side_roles_resolve_to_the_actions_side(self) -> None:
        table = make_table({Action.CONFIRM: [R.SIDE_LEADS, R.MLOPS_LEADS]})
        assert needed_roles(Action.CONFIRM, Side.DATAOPS, None, table) == {R.DATAOPS_LEADS, R.MLOPS_LEADS}

    def test_side_roles_are_refused_outside_side_actions(self) -> None:
        with pytest.raises(ValueError, match="only to per-side actions"):
            make_table({Action.CLOSE: [R.SIDE_LEADS]})

    def test_an_empty_row_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least one role"):
            make_table({Action.CLOSE: []})

    def test_anyone_allows_everyone(self) -> None:
        table = make_table({Action.SNOOZE: [R.ANYONE]})
        assert may(Action.SNOOZE, set(), new_incident(), table=table).allowed
