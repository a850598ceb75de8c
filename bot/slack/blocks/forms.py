"""The modals: open an incident, set one evidence item, confirm a side's verdict."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.incident import Incident
from bot.domain.models import AssetKind, EvidenceItem, EvidenceStatus, Severity, Side, VerdictKind
from bot.slack.blocks.decisions import proposal_lines
from bot.slack.blocks.text import escape, md, plain
from bot.slack.ids import BlockId, CallbackId, pack

SEVERITY_OPTIONS = [Option(text=plain(s.label, 75), value=s.value) for s in Severity]


def _text_input(
    block: BlockId,
    label: str,
    *,
    optional: bool = True,
    multiline: bool = False,
    max_length: int = 200,
    initial: str | None = None,
) -> InputBlock:
    """A labelled plain-text input whose action_id is the block's own input action."""
    return InputBlock(
        block_id=block,
        label=plain(label, 2000),
        optional=optional,
        element=PlainTextInputElement(
            action_id=block.input_action,
            multiline=multiline,
            max_length=max_length,
            initial_value=initial or None,
        ),
    )


def open_incident_modal(title: str = "", channel_id: str | None = None) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.OPEN_INCIDENT,
        title=plain("Open an incident", 24),
        submit=plain("Open", 24),
        close=plain("Cancel", 24),
        private_metadata=channel_id or "",
        blocks=[
            InputBlock(
                block_id=BlockId.TITLE,
                label=plain("Title", 2000),
                element=PlainTextInputElement(
                    action_id=BlockId.TITLE.input_action, initial_value=title or None, max_length=150
                ),
            ),
            InputBlock(
                block_id=BlockId.SEVERITY,
                label=plain("Severity", 2000),
                element=StaticSelectElement(
                    action_id=BlockId.SEVERITY.input_action,
                    options=SEVERITY_OPTIONS,
                    initial_option=SEVERITY_OPTIONS[2],
                ),
            ),
            _text_input(BlockId.MODEL, "Affected model or endpoint"),
            _text_input(BlockId.TABLE, "Affected table"),
            _text_input(BlockId.JOB, "Affected job"),
            _text_input(BlockId.DESCRIPTION, "Description", multiline=True, max_length=2900),
            InputBlock(
                block_id=BlockId.VISIBILITY,
                label=plain("Channel", 2000),
                element=RadioButtonsElement(
                    action_id=BlockId.VISIBILITY.input_action,
                    options=[
                        Option(text=plain("Public", 75), value="public"),
                        Option(text=plain("Private", 75), value="private"),
                    ],
                    initial_option=Option(text=plain("Public", 75), value="public"),
                ),
            ),
        ],
    )


STATUS_OPTIONS = [Option(text=plain(s.label, 75), value=s.value) for s in EvidenceStatus]


def evidence_modal(incident: Incident, item: EvidenceItem) -> View:
    current = next(o for o in STATUS_OPTIONS if o.value == item.status.value)
    return View(
        type="modal",
        callback_id=CallbackId.SET_EVIDENCE,
        title=plain(f"{item.side.label} evidence", 24),
        submit=plain("Save", 24),
        close=plain("Cancel", 24),
        private_metadata=pack(incident.id, item.ref),
        blocks=[
            SectionBlock(text=md(f"*{escape(item.label)}* for {incident.id}: {escape(incident.title)}")),
            InputBlock(
                block_id=BlockId.STATUS,
                label=plain("Status", 2000),
                element=StaticSelectElement(
                    action_id=BlockId.STATUS.input_action, options=STATUS_OPTIONS, initial_option=current
                ),
            ),
            _text_input(
                BlockId.DETAIL, "What you found", multiline=True, max_length=2900, initial=item.detail[:2900]
            ),
            _text_input(BlockId.LINK, "Link (dashboard, query, run)", max_length=2900, initial=item.link),
        ],
    )


VERDICT_OPTIONS = [Option(text=plain(k.label, 75), value=k.value) for k in VerdictKind]
ASSET_OPTIONS = [Option(text=plain(k.value.capitalize(), 75), value=k.value) for k in AssetKind]


def verdict_modal(incident: Incident, side: Side) -> View:
    proposal = incident.proposal()
    asset = proposal.failed_asset
    asset_kind = next((o for o in ASSET_OPTIONS if asset and o.value == asset.kind.value), None)
    return View(
        type="modal",
        callback_id=CallbackId.VERDICT,
        title=plain(f"Confirm for {side.label}", 24),
        submit=plain("Confirm", 24),
        close=plain("Cancel", 24),
        private_metadata=pack(incident.id, side.value),
        blocks=[
            SectionBlock(text=md(proposal_lines(proposal, incident))),
            DividerBlock(),
            InputBlock(
                block_id=BlockId.VERDICT,
                label=plain(f"{side.label} verdict", 2000),
                element=RadioButtonsElement(action_id=BlockId.VERDICT.input_action, options=VERDICT_OPTIONS),
            ),
            InputBlock(
                block_id=BlockId.ASSET_KIND,
                label=plain("Failed asset: kind (if your asset failed)", 2000),
                optional=True,
                element=StaticSelectElement(
                    action_id=BlockId.ASSET_KIND.input_action,
                    options=ASSET_OPTIONS,
                    initial_option=asset_kind,
                ),
            ),
            _text_input(
                BlockId.ASSET_NAME,
                "Failed asset: name (if your asset failed)",
                initial=asset.name if asset else None,
            ),
            InputBlock(
                block_id=BlockId.PREVENTION_OWNER,
                label=plain("Who owns the prevention work (if your asset failed)", 2000),
                optional=True,
                element=UserSelectElement(action_id=BlockId.PREVENTION_OWNER.input_action),
            ),
            _text_input(BlockId.NOTE, "Note", multiline=True, max_length=2000),
        ],
    )
