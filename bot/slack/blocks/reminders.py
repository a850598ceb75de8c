"""Reminders, escalations, snooze buttons and the daily digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.domain.incident import Incident
from bot.domain.models import Side
from bot.domain.reminders import Digest, DigestLine, Due, SnoozeChoice, waiting_sides
from bot.slack import escape as esc
from bot.slack.blocks.text import SEVERITY_EMOJI, date_text, escape, md, mentions, plain, span, truncate
from bot.slack.ids import ActionId, pack

DIGEST_LIST_LIMIT = 10  # lines per digest list; the counts above them stay exact


def snooze_buttons(incident_id: str) -> ActionsBlock:
    """One button per snooze choice; action ids carry an index because they must differ within a block."""
    return ActionsBlock(
        elements=[
            ButtonElement(
                text=plain(choice.label, 75),
                action_id=f"{ActionId.SNOOZE}.{n}",
                value=pack(incident_id, choice.value),
            )
            for n, choice in enumerate(SnoozeChoice)
        ]
    )


def reminder_text(incident: Incident, due: Due) -> str:
    kind = "escalation" if due.escalation else "reminder"
    idle = span(due.idle_for.total_seconds())
    return esc.fallback(
        f"{incident.id} {kind} {due.number}: no activity for {idle}; waiting on {waiting_sides(due.owed)}"
    )


def reminder_message(
    incident: Incident,
    due: Due,
    responders: dict[Side, Sequence[str]],
    leads: dict[Side, Sequence[str]],
) -> list[Block]:
    """A reminder in the incident channel: what each side still owes, its responders (and leads), snooze."""
    idle = span(due.idle_for.total_seconds())
    if due.escalation:
        head = (
            f":rotating_light: *{incident.id} escalated*: {due.number - 1} reminder(s) unanswered, "
            f"no activity for {idle}."
        )
    else:
        head = f":alarm_clock: *{incident.id} reminder {due.number}*: no activity for {idle}."
    head += f" {SEVERITY_EMOJI[incident.severity]} {incident.severity.label} · {escape(incident.title)}"
    blocks: list[Block] = [SectionBlock(text=md(head))]
    for side in Side:
        owed = due.owed.get(side)
        if not owed:
            continue
        text = f"*{side.label} still owes:* {escape(', '.join(owed))}"
        people = mentions(responders.get(side, []))
        if people:
            text += f"\n{people}"
        if due.mention_leads and leads.get(side):
            text += f"\n*Leads:* {mentions(leads[side])}"
        blocks.append(SectionBlock(text=md(truncate(text, 3000))))
    blocks.append(
        ContextBlock(
            elements=[md("Any evidence, confirmation or message in this channel resets the reminder clock.")]
        )
    )
    blocks.append(snooze_buttons(incident.id))
    return blocks


def escalation_notice(incident: Incident, due: Due, leads: dict[Side, Sequence[str]]) -> list[Block]:
    """The triage channel's copy of an escalation: which incident, how quiet, waiting on whom."""
    where = esc.channel_mention(incident.channel_id) if incident.channel_id else "(no channel)"
    lines = [
        f":rotating_light: *{incident.id} escalated* {SEVERITY_EMOJI[incident.severity]} "
        f"{incident.severity.label} · {escape(incident.title)} · {where}",
        f"No activity for {span(due.idle_for.total_seconds())}; {due.number - 1} reminder(s) unanswered.",
    ]
    for side in Side:
        if side in due.owed:
            named = mentions(leads.get(side, [])) or "no lead configured"
            lines.append(f"*Waiting on {side.label}* ({escape(', '.join(due.owed[side]))}): {named}")
    return [SectionBlock(text=md(truncate("\n".join(lines), 3000)))]


def escalation_text(incident: Incident, due: Due) -> str:
    idle = span(due.idle_for.total_seconds())
    return esc.fallback(
        f"{incident.id} escalated: no activity for {idle}; waiting on {waiting_sides(due.owed)}"
    )


def snoozed_text(incident_id: str, user_id: str, until: datetime) -> str:
    return f"Reminders for {incident_id} snoozed until {date_text(until)} by {esc.user_mention(user_id)}."


def _digest_line(line: DigestLine) -> str:
    where = f" · {esc.channel_mention(line.channel_id)}" if line.channel_id else ""
    return (
        f"{SEVERITY_EMOJI[line.severity]} *{line.incident_id}* {escape(line.title, 80)} · "
        f"{line.state.value} · opened {date_text(line.opened_at)} · quiet {span(line.idle_for.total_seconds())}"
        f"{where}"
    )


def _digest_list(title: str, lines: Sequence[DigestLine]) -> SectionBlock:
    shown = [f"• {_digest_line(line)}" for line in lines[:DIGEST_LIST_LIMIT]]
    if len(lines) > DIGEST_LIST_LIMIT:
        shown.append(f"and {len(lines) - DIGEST_LIST_LIMIT} more")
    return SectionBlock(text=md(truncate(f"*{title}*\n" + "\n".join(shown or ["none"]), 3000)))


def digest_text(digest: Digest) -> str:
    return esc.fallback(f"Incident digest {digest.day.isoformat()}: {digest.total} open incident(s)")


def digest_message(digest: Digest) -> list[Block]:
    """The daily digest for the triage channel: counts, the oldest, and what each side is waiting on."""
    blocks: list[Block] = [HeaderBlock(text=plain(f"Incident digest, {digest.day.isoformat()}", 150))]
    if digest.total == 0:
        blocks.append(SectionBlock(text=md("No open incidents. :tada:")))
        return blocks
    severities = " · ".join(f"{sev.label}: {n}" for sev, n in digest.by_severity.items())
    states = " · ".join(f"{state.value.capitalize()}: {n}" for state, n in digest.by_state.items())
    blocks.append(
        SectionBlock(
            fields=[
                md(f"*Open*\n{digest.total}"),
                md(f"*By severity*\n{severities}"),
                md(f"*By state*\n{states}"),
            ]
        )
    )
    blocks.append(_digest_list("Oldest", digest.oldest))
    for side in Side:
        waiting = digest.waiting_on.get(side, [])
        blocks.append(_digest_list(f"Waiting on {side.label} ({len(waiting)})", waiting))
    return blocks
