"""One side's evidence checklist message: a line and a Set button per item, confirm and run buttons."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, SectionBlock

from bot.domain.incident import Incident
from bot.domain.models import EvidenceItem, EvidenceNote, EvidenceSource, EvidenceStatus, Side
from bot.slack import escape as esc
from bot.slack.blocks.text import date_text, escape, md, mentions, plain, truncate
from bot.slack.ids import ActionId, checklist_block, pack

NOTES_SHOWN = 3  # findings kept beside a person's entry, newest last
DETAIL_LIMIT = 600  # per checklist line: 11 items must fit a message; the full text goes to the thread
STATUS_EMOJI = {
    EvidenceStatus.UNKNOWN: ":grey_question:",
    EvidenceStatus.OK: ":white_check_mark:",
    EvidenceStatus.ANOMALOUS: ":red_circle:",
    EvidenceStatus.NOT_APPLICABLE: ":heavy_minus_sign:",
}


def source_text(source: EvidenceSource) -> str:
    """Who filled an item: a mention of the person, or the playbook run and step (escaped)."""
    if source.kind == "person" and source.user_id:
        return esc.user_mention(source.user_id)
    return escape(source.describe())


def item_line(item: EvidenceItem) -> tuple[str, bool]:
    """The mrkdwn of one checklist item, and whether its detail had to be cut."""
    detail = escape(item.detail)
    cut = len(detail) > DETAIL_LIMIT
    if cut:
        detail = truncate(detail, DETAIL_LIMIT, "… _(full text in the thread)_")
    text = f"{STATUS_EMOJI[item.status]} *{escape(item.label)}*: {item.status.label}"
    if detail:
        text += f"\n{detail}"
    meta = []
    if item.source is not None:
        meta.append(source_text(item.source))
    if item.updated_at is not None:
        meta.append(date_text(item.updated_at))
    if item.link:
        meta.append(esc.link(item.link, "link"))
    if meta:
        text += "\n_" + " · ".join(meta) + "_"
    for note in item.notes[-NOTES_SHOWN:]:
        text += "\n" + note_line(item, note)
    return text, cut


def note_line(item: EvidenceItem, note: EvidenceNote) -> str:
    """A finding kept beside a person's entry: what it found and whether it differs (the responder decides)."""
    kind = note.source.kind
    by = f"playbook {escape(note.source.playbook or '')}" if kind == "playbook" else kind
    detail = escape(note.detail, 200)
    if note.status is EvidenceStatus.UNKNOWN:
        return f":memo: {by} could not check" + (f": {detail}" if detail else "")
    found = f"{by} found: {note.status.label}" + (f": {detail}" if detail else "")
    entry = source_text(item.source) if item.source else "a person"
    if note.conflict:
        return f":warning: {found} (differs from {entry}'s entry)"
    return f":memo: {found} (agrees with {entry}'s entry)"


def checklist(
    incident: Incident, side: Side, responders: Sequence[str], playbooks: Sequence[str] = ()
) -> list[Block]:
    """One side's evidence checklist with a button per item, its confirmation and its playbooks."""
    items = incident.items_for(side)
    verdict = incident.verdicts.get(side)
    head = f"*{side.label} evidence* for {incident.id}"
    if responders:
        head += f" · {truncate(mentions(responders), 2500)}"
    blocks: list[Block] = [
        SectionBlock(text=md(head), block_id=checklist_block(incident.id, side.value)),
    ]
    editable = incident.awaiting_decision
    for item in items:
        text, _ = item_line(item)
        accessory = (
            ButtonElement(
                text=plain("Set", 75),
                action_id=ActionId.SET_EVIDENCE,
                value=pack(incident.id, item.ref),
            )
            if editable
            else None
        )
        blocks.append(SectionBlock(text=md(text), accessory=accessory))
    status = f"*{side.label} verdict:* " + (
        f"{verdict.kind.label} (by {esc.user_mention(verdict.user_id)})" if verdict else "not confirmed yet"
    )
    blocks.append(ContextBlock(elements=[md(status)]))
    if editable:
        buttons = [
            ButtonElement(
                text=plain(f"Confirm for {side.label}", 75),
                action_id=ActionId.CONFIRM_SIDE,
                value=pack(incident.id, side.value),
                style="primary",
            )
        ]
        buttons += [
            ButtonElement(
                text=plain(f"Run {name}", 75),
                action_id=f"{ActionId.RUN_PLAYBOOK}.{n}",
                value=pack(incident.id, name),
            )
            for n, name in enumerate(playbooks[:4])
        ]
        blocks.append(ActionsBlock(elements=buttons))
    return blocks


def checklist_text(incident: Incident, side: Side) -> str:
    unknown = sum(1 for i in incident.items_for(side) if i.status is EvidenceStatus.UNKNOWN)
    return esc.fallback(f"{side.label} evidence for {incident.id}: {unknown} item(s) still unknown")
