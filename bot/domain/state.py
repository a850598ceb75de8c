"""The incident state machine as one transition table; an illegal event raises and changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from bot.domain.errors import IllegalTransition
from bot.domain.models import IncidentState


class IncidentEvent(StrEnum):
    INVESTIGATE = "investigate"  # the channel is ready and responders are gathering evidence
    DECIDE = "decide"  # both sides confirmed agreeing verdicts
    REOPEN = "reopen"  # a decision made in error is withdrawn
    RESOLVE = "resolve"  # the failure is mitigated, a resolution note is recorded
    CLOSE = "close"  # the record is final


S = IncidentState
E = IncidentEvent

TRANSITIONS: Mapping[tuple[IncidentState, IncidentEvent], IncidentState] = {
    (S.OPEN, E.INVESTIGATE): S.INVESTIGATING,
    (S.OPEN, E.DECIDE): S.DECIDED,
    (S.INVESTIGATING, E.DECIDE): S.DECIDED,
    (S.DECIDED, E.REOPEN): S.INVESTIGATING,
    (S.DECIDED, E.RESOLVE): S.RESOLVED,
    (S.RESOLVED, E.REOPEN): S.INVESTIGATING,
    (S.RESOLVED, E.CLOSE): S.CLOSED,
}

ACTIVE_STATES = frozenset({S.OPEN, S.INVESTIGATING, S.DECIDED, S.RESOLVED})

_WHY_NOT: Mapping[IncidentEvent, str] = {
    E.INVESTIGATE: "the incident is already past its opening",
    E.DECIDE: "an ownership decision can only be made while the incident is open or under investigation",
    E.REOPEN: "only a decided or resolved incident can be reopened",
    E.RESOLVE: "an incident is resolved only after an ownership decision has been posted",
    E.CLOSE: "an incident is closed only after an ownership decision and a resolution note",
}


def next_state(state: IncidentState, event: IncidentEvent) -> IncidentState:
    """The state after `event`, or IllegalTransition naming why the move is refused."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(
            f"Cannot {event.value} an incident that is {state.value}: {_WHY_NOT[event]}."
        ) from None


def allowed_events(state: IncidentState) -> frozenset[IncidentEvent]:
    return frozenset(e for (s, e) in TRANSITIONS if s is state)
