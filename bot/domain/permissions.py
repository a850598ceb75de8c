"""Who may do what to an incident: one table of actions x roles, and the pure check against it.

The services compute the roles a person holds (bot/services/directory.py) and ask `require`; a refusal is a
NotAllowed whose message names who may do it. A deployment may replace any row (config `permissions:`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import NotAllowed
from bot.domain.incident import Incident
from bot.domain.models import IncidentState, Side


class Role(StrEnum):
    """A set of people. `side.*` means the side an action is for (set evidence, confirm, run a playbook)."""

    MLOPS_RESPONDERS = "mlops.responders"  # the side's users and user-group members in the config
    MLOPS_LEADS = "mlops.leads"
    DATAOPS_RESPONDERS = "dataops.responders"
    DATAOPS_LEADS = "dataops.leads"
    SIDE_RESPONDERS = "side.responders"
    SIDE_LEADS = "side.leads"
    OPENER = "opener"  # the person who opened the incident
    CHANNEL_MEMBERS = "channel_members"  # members of the incident's channel
    ANYONE = "anyone"  # anyone in the workspace


class Action(StrEnum):
    SET_EVIDENCE = "set_evidence"
    CONFIRM = "confirm"
    RUN_PLAYBOOK = "run_playbook"
    SNOOZE = "snooze"
    CLOSE = "close"
    REOPEN = "reopen"
    REOPEN_DECIDED = "reopen_decided"  # reopen an incident whose decision stands (state `decided`)
    CHANGE_SEVERITY = "change_severity"
    VIEW_PRIVATE = "view_private"  # see a private incident in `status` and `list`


SIDE_ACTIONS = frozenset({Action.SET_EVIDENCE, Action.CONFIRM, Action.RUN_PLAYBOOK})
# Roles that only the incident can tell: on the ack path (no incident read) they count as held.
INCIDENT_ROLES = frozenset({Role.OPENER, Role.CHANNEL_MEMBERS})

_RESPONDERS = {Side.MLOPS: Role.MLOPS_RESPONDERS, Side.DATAOPS: Role.DATAOPS_RESPONDERS}
_LEADS = {Side.MLOPS: Role.MLOPS_LEADS, Side.DATAOPS: Role.DATAOPS_LEADS}
_EITHER_SIDE = frozenset({*_RESPONDERS.values(), *_LEADS.values()})
_OWN_SIDE = frozenset({Role.SIDE_RESPONDERS, Role.SIDE_LEADS})

DEFAULT_TABLE: Mapping[Action, frozenset[Role]] = {
    Action.SET_EVIDENCE: _OWN_SIDE,
    Action.CONFIRM: _OWN_SIDE,
    Action.RUN_PLAYBOOK: _OWN_SIDE,
    Action.SNOOZE: _EITHER_SIDE,
    Action.CLOSE: _EITHER_SIDE,
    Action.REOPEN: _EITHER_SIDE,
    Action.REOPEN_DECIDED: frozenset(_LEADS.values()),
    Action.CHANGE_SEVERITY: _EITHER_SIDE,
    Action.VIEW_PRIVATE: frozenset({Role.CHANNEL_MEMBERS}),
}


def side_roles(side: Side, responder: bool, lead: bool) -> set[Role]:
    """The concrete roles of a person on `side`."""
    return ({_RESPONDERS[side]} if responder else set()) | ({_LEADS[side]} if lead else set())


def make_table(overrides: Mapping[Action, Iterable[Role]] | None = None) -> dict[Action, frozenset[Role]]:
    """The default table with some rows replaced; `side.*` roles are refused outside the per-side actions."""
    table = dict(DEFAULT_TABLE)
    for action, roles in (overrides or {}).items():
        row = frozenset(roles)
        if action not in SIDE_ACTIONS and row & _OWN_SIDE:
            raise ValueError(f"{action.value}: side.responders and side.leads apply only to per-side actions")
        if not row:
            raise ValueError(f"{action.value}: at least one role is needed")
        table[action] = row
    return table


def effective_action(action: Action, incident: Incident | None) -> Action:
    """Reopening withdraws a decision: while it stands (state `decided`) that is a row of its own."""
    if action is Action.REOPEN and incident is not None and incident.state is IncidentState.DECIDED:
        return Action.REOPEN_DECIDED
    return action


def needed_roles(
    action: Action,
    side: Side | None = None,
    incident: Incident | None = None,
    table: Mapping[Action, frozenset[Role]] = DEFAULT_TABLE,
) -> frozenset[Role]:
    """The concrete roles any one of which allows the action (`side.*` resolved to the action's side)."""
    row = table[effective_action(action, incident)]
    if action in SIDE_ACTIONS:
        if side is None:
            raise ValueError(f"{action.value} is done for a side: pass the side")
        row = (row - _OWN_SIDE) | side_roles(side, Role.SIDE_RESPONDERS in row, Role.SIDE_LEADS in row)
    return frozenset(row)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: Action
    who: str  # who may do it, in words ("MLOps or DataOps responders and leads")
    reason: str  # the refusal, naming who may ("" when allowed)


def may(
    action: Action,
    actor_roles: Iterable[Role],
    incident: Incident | None = None,
    side: Side | None = None,
    table: Mapping[Action, frozenset[Role]] = DEFAULT_TABLE,
) -> Decision:
    """May a person holding `actor_roles` do `action` (for `side`) to `incident`?

    A public incident is visible to anyone. Without the incident (the ack path, before any read) the roles
    only the incident can tell count as held, so the check after the ack, with the incident, decides.
    """
    effective = effective_action(action, incident)
    needed = needed_roles(action, side, incident, table)
    who = describe(needed)
    if action is Action.VIEW_PRIVATE and incident is not None and not incident.private:
        return Decision(True, effective, who, "")
    held = set(actor_roles) | {Role.ANYONE}
    if incident is None:
        held |= INCIDENT_ROLES
    if needed & held:
        return Decision(True, effective, who, "")
    return Decision(False, effective, who, _refusal(effective, who, incident, side))


def require(
    action: Action,
    actor_roles: Iterable[Role],
    incident: Incident | None = None,
    side: Side | None = None,
    table: Mapping[Action, frozenset[Role]] = DEFAULT_TABLE,
) -> Decision:
    """`may`, raising NotAllowed (its message names who may) when the answer is no."""
    decision = may(action, actor_roles, incident, side, table)
    if not decision.allowed:
        raise NotAllowed(decision.reason)
    return decision


def _either(sides: list[Side]) -> str:
    return " or ".join(s.label for s in sides)


def describe(roles: Iterable[Role]) -> str:
    """Concrete roles in words: "MLOps or DataOps responders and leads", "DataOps leads or the opener"."""
    held = set(roles)
    if Role.ANYONE in held:
        return "anyone"
    responders = [s for s in Side if _RESPONDERS[s] in held]
    leads = [s for s in Side if _LEADS[s] in held]
    parts: list[str] = []
    if responders and responders == leads:
        parts.append(f"{_either(responders)} responders and leads")
    else:
        if responders:
            parts.append(f"{_either(responders)} responders")
        if leads:
            parts.append(f"{_either(leads)} leads")
    if Role.OPENER in held:
        parts.append("the person who opened it")
    if Role.CHANNEL_MEMBERS in held:
        parts.append("members of its channel")
    if not parts:
        return "nobody"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _refusal(action: Action, who: str, incident: Incident | None, side: Side | None) -> str:
    name = incident.id if incident is not None else "this incident"
    label = side.label if side is not None else ""
    if action is Action.VIEW_PRIVATE:
        return f"{name} is private: only {who} can see it."
    what = {
        Action.SET_EVIDENCE: f"set {label} evidence on {name}",
        Action.CONFIRM: f"confirm for {label} on {name}",
        Action.RUN_PLAYBOOK: f"run {label} playbooks on {name}",
        Action.SNOOZE: f"snooze the reminders of {name}",
        Action.CLOSE: f"close {name}",
        Action.REOPEN: f"reopen {name}",
        Action.REOPEN_DECIDED: f"reopen {name} once it is decided (that withdraws the decision)",
        Action.CHANGE_SEVERITY: f"change the severity of {name}",
    }[action]
    return f"Only {who} can {what}."
