"""Every action_id, block_id and callback_id, shared by the block builders and the listeners."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    SET_EVIDENCE = "handoff.evidence.set"  # value: "<incident id>|<item ref>"
    CONFIRM_SIDE = "handoff.verdict.open"  # value: "<incident id>|<side>"
    RUN_PLAYBOOK = "handoff.playbook.run"  # value: "<incident id>|<playbook name>"
    SNOOZE = "handoff.reminder.snooze"  # value: "<incident id>|<duration>"


class CallbackId(StrEnum):
    OPEN_INCIDENT = "handoff.open"
    SET_EVIDENCE = "handoff.evidence"
    VERDICT = "handoff.verdict"


class BlockId(StrEnum):
    TITLE = "title"
    SEVERITY = "severity"
    MODEL = "asset_model"
    TABLE = "asset_table"
    JOB = "asset_job"
    DESCRIPTION = "description"
    VISIBILITY = "visibility"
    STATUS = "status"
    DETAIL = "detail"
    LINK = "link"
    VERDICT = "verdict"
    ASSET_KIND = "asset_kind"
    ASSET_NAME = "asset_name"
    PREVENTION_OWNER = "prevention_owner"
    NOTE = "note"

    @property
    def input_action(self) -> str:
        """The action_id of the single input element inside this block."""
        return f"{self.value}_input"


def card_block(incident_id: str) -> str:
    return f"handoff.card.{incident_id}"


def checklist_block(incident_id: str, side: str) -> str:
    return f"handoff.checklist.{incident_id}.{side}"


def pack(*parts: str) -> str:
    return "|".join(parts)


def unpack(value: str, n: int) -> list[str]:
    parts = value.split("|")
    if len(parts) != n:
        raise ValueError(f"expected {n} parts in {value!r}")
    return parts
