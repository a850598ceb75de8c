"""Turn what a person typed or submitted into typed commands, or an InvalidInput saying how to fix it."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from bot.domain.errors import InvalidInput
from bot.domain.models import Asset, AssetKind, EvidenceStatus, Severity, Side, VerdictKind
from bot.domain.submissions import EvidenceSubmission, VerdictSubmission
from bot.slack.ids import BlockId


class OpenCommand(BaseModel):
    title: str | None = None
    severity: Severity = Severity.SEV3


class StatusCommand(BaseModel):
    incident_id: str | None = None


class ListCommand(BaseModel):
    pass


class HelpCommand(BaseModel):
    pass


class CloseCommand(BaseModel):
    note: str


class ReopenCommand(BaseModel):
    reason: str


class RunCommand(BaseModel):
    playbook: str


Command = OpenCommand | StatusCommand | ListCommand | HelpCommand | CloseCommand | ReopenCommand | RunCommand

USAGE = "Try `{cmd} help` for the list of subcommands."


def parse_command(text: str, command: str = "/incident") -> Command:
    """Parse a slash command's text; InvalidInput names what was wrong and shows the usage."""
    text = " ".join(text.split())
    head, _, rest = text.partition(" ")
    sub = head.lower()
    if sub in ("", "help"):
        return HelpCommand()
    if sub == "open":
        return _parse_open(rest, command)
    if sub == "status":
        ref = rest.strip().upper()
        if ref and not re.fullmatch(r"INC-\d{1,9}", ref):
            raise InvalidInput(f"`{rest.strip()[:40]}` is not an incident id like INC-0042.")
        return StatusCommand(incident_id=ref or None)
    if sub == "list":
        return ListCommand()
    if sub == "close":
        if not rest.strip():
            raise InvalidInput(
                f"`{command} close` needs a resolution note: `{command} close <what was done>`."
            )
        return CloseCommand(note=rest.strip()[:2000])
    if sub == "reopen":
        if not rest.strip():
            raise InvalidInput(
                f"`{command} reopen` needs the reason: `{command} reopen <why the decision was wrong>`."
            )
        return ReopenCommand(reason=rest.strip()[:2000])
    if sub == "run":
        if not rest.strip() or " " in rest.strip():
            raise InvalidInput(f"`{command} run` takes one playbook name: `{command} run <playbook>`.")
        return RunCommand(playbook=rest.strip())
    raise InvalidInput(f"Unknown subcommand `{head[:40]}`. " + USAGE.format(cmd=command))


def _parse_open(rest: str, command: str) -> OpenCommand:
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    severity = Severity.SEV3
    if words and words[-1].lower().startswith(("sev", "p")) and len(words[-1]) <= 5:
        parsed = Severity.parse(words[-1])
        if parsed is None:
            raise InvalidInput(
                f"`{words[-1]}` is not a severity: use sev1, sev2, sev3 or sev4, e.g. "
                f"`{command} open Stale feature table sev2`."
            )
        severity = parsed
        words = words[:-1]
    title = " ".join(words).strip()
    if len(title) > 150:
        raise InvalidInput(f"The title is {len(title)} characters; keep it to 150.")
    return OpenCommand(title=title or None, severity=severity)


# --- View submissions --------------------------------------------------------------------------------------


def _value(values: Mapping[str, Any], block: BlockId) -> Any:
    return values.get(block.value, {}).get(block.input_action, {})


def _text(values: Mapping[str, Any], block: BlockId) -> str:
    return str(_value(values, block).get("value") or "").strip()


def _selected(values: Mapping[str, Any], block: BlockId) -> str | None:
    option = _value(values, block).get("selected_option")
    return str(option["value"]) if option else None


class OpenSubmission(BaseModel):
    title: str
    severity: Severity
    assets: list[Asset]
    description: str
    private: bool


def parse_open_submission(values: Mapping[str, Any]) -> OpenSubmission:
    errors: dict[str, str] = {}
    title = _text(values, BlockId.TITLE)
    if not title:
        errors[BlockId.TITLE] = "Give the incident a title."
    severity = Severity.parse(_selected(values, BlockId.SEVERITY) or "")
    if severity is None:
        errors[BlockId.SEVERITY] = "Pick a severity."
    if errors:
        raise FormErrors(errors)
    assets = [
        Asset(kind=kind, name=name)
        for kind, block in (
            (AssetKind.MODEL, BlockId.MODEL),
            (AssetKind.TABLE, BlockId.TABLE),
            (AssetKind.JOB, BlockId.JOB),
        )
        if (name := _text(values, block))
    ]
    assert severity is not None
    return OpenSubmission(
        title=title,
        severity=severity,
        assets=assets,
        description=_text(values, BlockId.DESCRIPTION),
        private=_selected(values, BlockId.VISIBILITY) == "private",
    )


class FormErrors(InvalidInput):
    """Errors per input block, shown by Slack next to the fields (response_action=errors)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(errors.values()))


def parse_evidence_submission(values: Mapping[str, Any]) -> EvidenceSubmission:
    status = _selected(values, BlockId.STATUS)
    if status not in {s.value for s in EvidenceStatus}:
        raise FormErrors({BlockId.STATUS: "Pick a status."})
    link = _text(values, BlockId.LINK) or None
    if link and not link.startswith(("https://", "http://")):
        raise FormErrors({BlockId.LINK: "A link starts with https:// (or http://)."})
    return EvidenceSubmission(status=EvidenceStatus(status), detail=_text(values, BlockId.DETAIL), link=link)


def parse_verdict_submission(values: Mapping[str, Any], side: Side) -> VerdictSubmission:
    kind_value = _selected(values, BlockId.VERDICT)
    if kind_value not in {k.value for k in VerdictKind}:
        raise FormErrors({BlockId.VERDICT: "Pick a verdict."})
    kind = VerdictKind(kind_value)
    asset_kind = _selected(values, BlockId.ASSET_KIND)
    asset_name = _text(values, BlockId.ASSET_NAME)
    owner = _value(values, BlockId.PREVENTION_OWNER).get("selected_user")
    asset = None
    if kind is VerdictKind.OWNS:
        errors: dict[str, str] = {}
        if not asset_kind:
            errors[BlockId.ASSET_KIND] = f"Name the kind of {side.label} asset that failed."
        if not asset_name:
            errors[BlockId.ASSET_NAME] = f"Name the {side.label} asset that failed."
        if not owner:
            errors[BlockId.PREVENTION_OWNER] = "Who owns the prevention work?"
        if errors:
            raise FormErrors(errors)
        asset = Asset(kind=AssetKind(str(asset_kind)), name=asset_name)
    return VerdictSubmission(
        kind=kind,
        asset=asset,
        prevention_owner=str(owner) if owner else None,
        note=_text(values, BlockId.NOTE),
    )
