"""The incident card (pinned, updated in place), its fallback text and the channel topic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock

from bot.domain.incident import Incident
from bot.domain.models import Side
from bot.slack import escape as esc
from bot.slack.blocks.decisions import decision_summary, proposal_lines
from bot.slack.blocks.text import SEVERITY_EMOJI, date_text, escape, md, mentions, plain, truncate
from bot.slack.ids import card_block


def incident_card(
    incident: Incident, sides: Mapping[Side, Sequence[str]], links: Sequence[tuple[str, str]] = ()
) -> list[Block]:
    """The pinned summary of an incident, updated in place as it changes."""
    assets = ", ".join(f"`{escape(str(a))}`" for a in incident.assets) or "none named"
    fields = [
        md(f"*Severity*\n{SEVERITY_EMOJI[incident.severity]} {incident.severity.label}"),
        md(f"*Status*\n{incident.state.value.capitalize()}"),
        md(f"*Commander*\n{esc.user_mention(incident.commander) if incident.commander else 'unassigned'}"),
        md(f"*Opened*\n{date_text(incident.created_at)} ({incident.origin})"),
        md(f"*MLOps*\n{truncate(mentions(sides.get(Side.MLOPS, [])) or 'none', 1900)}"),
        md(f"*DataOps*\n{truncate(mentions(sides.get(Side.DATAOPS, [])) or 'none', 1900)}"),
        md(f"*Affected assets*\n{truncate(assets, 1900)}"),
    ]
    blocks: list[Block] = [
        HeaderBlock(text=plain(f"{incident.id}: {incident.title}", 150), block_id=card_block(incident.id)),
        SectionBlock(fields=fields),
    ]
    if description := escape(incident.description).strip():
        blocks.append(SectionBlock(text=md(description, 3000)))
    if incident.decision is not None:
        blocks.append(SectionBlock(text=md(decision_summary(incident, incident.decision))))
    else:
        blocks.append(SectionBlock(text=md(proposal_lines(incident.proposal(), incident))))
    if incident.resolution_note:
        blocks.append(SectionBlock(text=md(f"*Resolution:* {escape(incident.resolution_note)}")))
    if links:
        blocks.append(ContextBlock(elements=[md(" · ".join(esc.link(url, name) for name, url in links[:8]))]))
    return blocks


def card_text(incident: Incident) -> str:
    return esc.fallback(
        f"{incident.id} [{incident.severity.label}] {incident.title} ({incident.state.value})"
    )


def topic(incident: Incident) -> str:
    """The channel topic; the title is cut so that the state and the owner always fit in Slack's 250."""
    owner = f" | owner: {incident.decision.owner.label}" if incident.decision else ""
    head, tail = f"{incident.severity.label} {incident.id}: ", f" | {incident.state.value}{owner}"
    title = esc.cut(esc.topic(incident.title), esc.TOPIC_LIMIT - len(head) - len(tail))
    return head + title + tail
