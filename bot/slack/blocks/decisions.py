"""The ownership proposal and decision texts, the decision message and the dispute message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock

from bot.domain.decision import DecisionStatus, OwnershipDecision
from bot.domain.incident import Incident
from bot.domain.models import Side
from bot.slack import escape as esc
from bot.slack.blocks.checklist import item_line
from bot.slack.blocks.text import escape, md, mentions, plain, span_text, truncate


def proposal_lines(decision: OwnershipDecision, incident: Incident) -> str:
    owner = decision.owner.label
    if decision.primary and decision.owner.value == "joint":
        owner += f" (primary: {decision.primary.label})"
    lines = [f"*Proposed owner:* {owner}", f"_{escape(decision.summary)}_"]
    if decision.failed_asset:
        lines.append(f"*Failed asset:* `{escape(str(decision.failed_asset))}`")
    for reason in decision.rationale[:6]:
        lines.append(f"• {escape(reason.text)}")
    if decision.missing:
        labels = [incident.evidence[r].label for r in decision.missing if r in incident.evidence]
        lines.append(f"*Still unknown:* {escape(', '.join(labels))}")
    if decision.awaiting and decision.status is DecisionStatus.PROPOSED:
        lines.append("*Awaiting confirmation from:* " + ", ".join(s.label for s in decision.awaiting))
    return "\n".join(lines)


def decision_summary(incident: Incident, decision: OwnershipDecision) -> str:
    owner = decision.owner.label + (
        f" (primary: {decision.primary.label})"
        if decision.owner.value == "joint" and decision.primary
        else ""
    )
    lines = [f"*Ownership decision: {owner}*"]
    if decision.failed_asset:
        lines.append(f"*Failed asset:* `{escape(str(decision.failed_asset))}`")
    if decision.prevention_owner:
        lines.append(f"*Prevention work:* {esc.user_mention(decision.prevention_owner)}")
    return "\n".join(lines)


def decision_message(incident: Incident, decision: OwnershipDecision) -> list[Block]:
    confirmed = ", ".join(
        f"{side.label}: {esc.user_mention(user)}" for side, user in decision.confirmed_by.items()
    )
    took = ""
    if incident.decided_at is not None:
        took = f" · {span_text(incident.decided_at - incident.created_at)} from opening to decision"
    reasons = (
        "\n".join(f"• {escape(r.text)}" for r in decision.rationale[:10]) or "• (no evidence item drove it)"
    )
    return [
        HeaderBlock(text=plain(f"Ownership decided: {decision.owner.label}", 150)),
        SectionBlock(text=md(decision_summary(incident, decision) + f"\n_{escape(decision.summary)}_")),
        SectionBlock(text=md(f"*Why*\n{reasons}")),
        ContextBlock(elements=[md(f"Confirmed by {confirmed}{took}")]),
    ]


def decision_text(incident: Incident, decision: OwnershipDecision) -> str:
    asset = f", failed asset {decision.failed_asset}" if decision.failed_asset else ""
    return esc.fallback(f"{incident.id}: ownership decided: {decision.owner.label}{asset}")


def dispute_message(
    incident: Incident, decision: OwnershipDecision, sides: Mapping[Side, Sequence[str]]
) -> list[Block]:
    conflicts = "\n".join(f"• {escape(d.text)}" for d in decision.disputes)
    evidence_refs = {ref for d in decision.disputes for ref in d.evidence}
    evidence = "\n".join(
        item_line(incident.evidence[ref])[0] for ref in sorted(evidence_refs) if ref in incident.evidence
    )
    everyone = mentions([u for side in Side for u in sides.get(side, [])])
    blocks: list[Block] = [
        HeaderBlock(text=plain("Verdicts disagree: joint triage needed", 150)),
        SectionBlock(text=md(f"*Conflict*\n{conflicts}")),
    ]
    if evidence:
        blocks.append(SectionBlock(text=md(f"*Conflicting evidence*\n{truncate(evidence, 2900)}")))
    blocks.append(
        SectionBlock(
            text=md(
                truncate(
                    f"Both confirmations were cleared. {everyone} please triage together, then confirm again.",
                    3000,
                )
            )
        )
    )
    return blocks


def dispute_text(incident: Incident) -> str:
    return esc.fallback(f"{incident.id}: the sides' verdicts disagree; joint triage needed")
