"""All Block Kit the bot sends, built with slack_sdk.models; nothing else in the code writes block dicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.decision import DecisionStatus, OwnershipDecision
from bot.domain.incident import Incident
from bot.domain.models import AssetKind, EvidenceItem, EvidenceStatus, Severity, Side, VerdictKind
from bot.domain.reminders import Digest, DigestLine, Due, SnoozeChoice, waiting_sides
from bot.slack.ids import ActionId, BlockId, CallbackId, card_block, checklist_block, pack

DETAIL_LIMIT = 600  # per checklist line: 11 items must fit a message; the full text goes to the thread
STATUS_EMOJI = {
    EvidenceStatus.UNKNOWN: ":grey_question:",
    EvidenceStatus.OK: ":white_check_mark:",
    EvidenceStatus.ANOMALOUS: ":red_circle:",
    EvidenceStatus.NOT_APPLICABLE: ":heavy_minus_sign:",
}
SEVERITY_EMOJI = {
    Severity.SEV1: ":rotating_light:",
    Severity.SEV2: ":warning:",
    Severity.SEV3: ":large_orange_diamond:",
    Severity.SEV4: ":small_blue_diamond:",
}


def truncate(text: str, limit: int, marker: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(marker)].rstrip() + marker


def escape(text: str) -> str:
    """Escape what Slack's mrkdwn treats as control characters, so user text cannot ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ts(at: datetime | None) -> str:
    if at is None:
        return ""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def mentions(user_ids: Sequence[str]) -> str:
    return " ".join(f"<@{u}>" for u in user_ids)


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=truncate(text, limit), emoji=True)


def _md(text: str, limit: int = 3000) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(text, limit))


# --- The incident card -------------------------------------------------------------------------------------


def proposal_lines(decision: OwnershipDecision, incident: Incident) -> str:
    owner = decision.owner.label
    if decision.primary and decision.owner.value == "joint":
        owner += f" (primary: {decision.primary.label})"
    lines = [f"*Proposed owner:* {owner}", f"_{decision.summary}_"]
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


def incident_card(
    incident: Incident, sides: Mapping[Side, Sequence[str]], links: Sequence[tuple[str, str]] = ()
) -> list[Block]:
    """The pinned summary of an incident, updated in place as it changes."""
    assets = ", ".join(f"`{escape(str(a))}`" for a in incident.assets) or "none named"
    fields = [
        _md(f"*Severity*\n{SEVERITY_EMOJI[incident.severity]} {incident.severity.label}"),
        _md(f"*Status*\n{incident.state.value.capitalize()}"),
        _md(f"*Commander*\n{'<@' + incident.commander + '>' if incident.commander else 'unassigned'}"),
        _md(f"*Opened*\n{_ts(incident.created_at)} ({incident.origin})"),
        _md(f"*MLOps*\n{truncate(mentions(sides.get(Side.MLOPS, [])) or 'none', 1900)}"),
        _md(f"*DataOps*\n{truncate(mentions(sides.get(Side.DATAOPS, [])) or 'none', 1900)}"),
        _md(f"*Affected assets*\n{truncate(assets, 1900)}"),
    ]
    blocks: list[Block] = [
        HeaderBlock(text=_plain(f"{incident.id}: {incident.title}", 150), block_id=card_block(incident.id)),
        SectionBlock(fields=fields),
    ]
    if incident.description:
        blocks.append(SectionBlock(text=_md(escape(incident.description), 3000)))
    if incident.decision is not None:
        blocks.append(SectionBlock(text=_md(decision_summary(incident, incident.decision))))
    else:
        blocks.append(SectionBlock(text=_md(proposal_lines(incident.proposal(), incident))))
    if incident.resolution_note:
        blocks.append(SectionBlock(text=_md(f"*Resolution:* {escape(incident.resolution_note)}")))
    if links:
        blocks.append(
            ContextBlock(elements=[_md(" · ".join(f"<{url}|{escape(name)}>" for name, url in links[:8]))])
        )
    return blocks


def card_text(incident: Incident) -> str:
    return f"{incident.id} [{incident.severity.label}] {incident.title} ({incident.state.value})"


def topic(incident: Incident) -> str:
    owner = f" | owner: {incident.decision.owner.label}" if incident.decision else ""
    return truncate(
        f"{incident.severity.label} {incident.id}: {incident.title} | {incident.state.value}{owner}", 250
    )


# --- Checklists --------------------------------------------------------------------------------------------


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
        meta.append(item.source.describe())
    if item.updated_at is not None:
        meta.append(_ts(item.updated_at))
    if item.link:
        meta.append(f"<{item.link}|link>")
    if meta:
        text += "\n_" + " · ".join(meta) + "_"
    return text, cut


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
        SectionBlock(text=_md(head), block_id=checklist_block(incident.id, side.value)),
    ]
    editable = incident.awaiting_decision
    for item in items:
        text, _ = item_line(item)
        accessory = (
            ButtonElement(
                text=_plain("Set", 75),
                action_id=ActionId.SET_EVIDENCE,
                value=pack(incident.id, item.ref),
            )
            if editable
            else None
        )
        blocks.append(SectionBlock(text=_md(text), accessory=accessory))
    status = f"*{side.label} verdict:* " + (
        f"{verdict.kind.label} (by <@{verdict.user_id}>)" if verdict else "not confirmed yet"
    )
    blocks.append(ContextBlock(elements=[_md(status)]))
    if editable:
        buttons = [
            ButtonElement(
                text=_plain(f"Confirm for {side.label}", 75),
                action_id=ActionId.CONFIRM_SIDE,
                value=pack(incident.id, side.value),
                style="primary",
            )
        ]
        buttons += [
            ButtonElement(
                text=_plain(f"Run {name}", 75),
                action_id=f"{ActionId.RUN_PLAYBOOK}.{n}",
                value=pack(incident.id, name),
            )
            for n, name in enumerate(playbooks[:4])
        ]
        blocks.append(ActionsBlock(elements=buttons))
    return blocks


def checklist_text(incident: Incident, side: Side) -> str:
    unknown = sum(1 for i in incident.items_for(side) if i.status is EvidenceStatus.UNKNOWN)
    return f"{side.label} evidence for {incident.id}: {unknown} item(s) still unknown"


# --- Modals ------------------------------------------------------------------------------------------------

SEVERITY_OPTIONS = [Option(text=_plain(s.label, 75), value=s.value) for s in Severity]


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
        label=_plain(label, 2000),
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
        title=_plain("Open an incident", 24),
        submit=_plain("Open", 24),
        close=_plain("Cancel", 24),
        private_metadata=channel_id or "",
        blocks=[
            InputBlock(
                block_id=BlockId.TITLE,
                label=_plain("Title", 2000),
                element=PlainTextInputElement(
                    action_id=BlockId.TITLE.input_action, initial_value=title or None, max_length=150
                ),
            ),
            InputBlock(
                block_id=BlockId.SEVERITY,
                label=_plain("Severity", 2000),
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
                label=_plain("Channel", 2000),
                element=RadioButtonsElement(
                    action_id=BlockId.VISIBILITY.input_action,
                    options=[
                        Option(text=_plain("Public", 75), value="public"),
                        Option(text=_plain("Private", 75), value="private"),
                    ],
                    initial_option=Option(text=_plain("Public", 75), value="public"),
                ),
            ),
        ],
    )


STATUS_OPTIONS = [Option(text=_plain(s.label, 75), value=s.value) for s in EvidenceStatus]


def evidence_modal(incident: Incident, item: EvidenceItem) -> View:
    current = next(o for o in STATUS_OPTIONS if o.value == item.status.value)
    return View(
        type="modal",
        callback_id=CallbackId.SET_EVIDENCE,
        title=_plain(f"{item.side.label} evidence", 24),
        submit=_plain("Save", 24),
        close=_plain("Cancel", 24),
        private_metadata=pack(incident.id, item.ref),
        blocks=[
            SectionBlock(text=_md(f"*{escape(item.label)}* for {incident.id}: {escape(incident.title)}")),
            InputBlock(
                block_id=BlockId.STATUS,
                label=_plain("Status", 2000),
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


VERDICT_OPTIONS = [Option(text=_plain(k.label, 75), value=k.value) for k in VerdictKind]
ASSET_OPTIONS = [Option(text=_plain(k.value.capitalize(), 75), value=k.value) for k in AssetKind]


def verdict_modal(incident: Incident, side: Side) -> View:
    proposal = incident.proposal()
    asset = proposal.failed_asset
    asset_kind = next((o for o in ASSET_OPTIONS if asset and o.value == asset.kind.value), None)
    return View(
        type="modal",
        callback_id=CallbackId.VERDICT,
        title=_plain(f"Confirm for {side.label}", 24),
        submit=_plain("Confirm", 24),
        close=_plain("Cancel", 24),
        private_metadata=pack(incident.id, side.value),
        blocks=[
            SectionBlock(text=_md(proposal_lines(proposal, incident))),
            DividerBlock(),
            InputBlock(
                block_id=BlockId.VERDICT,
                label=_plain(f"{side.label} verdict", 2000),
                element=RadioButtonsElement(action_id=BlockId.VERDICT.input_action, options=VERDICT_OPTIONS),
            ),
            InputBlock(
                block_id=BlockId.ASSET_KIND,
                label=_plain("Failed asset: kind (if your asset failed)", 2000),
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
                label=_plain("Who owns the prevention work (if your asset failed)", 2000),
                optional=True,
                element=UserSelectElement(action_id=BlockId.PREVENTION_OWNER.input_action),
            ),
            _text_input(BlockId.NOTE, "Note", multiline=True, max_length=2000),
        ],
    )


# --- Decisions and disputes --------------------------------------------------------------------------------


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
        lines.append(f"*Prevention work:* <@{decision.prevention_owner}>")
    return "\n".join(lines)


def span_text(delta: timedelta) -> str:
    """A duration as people say it: 42 s, 7 min, 2 h 5 min, 3 d 4 h."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} d {hours % 24} h"


def decision_message(incident: Incident, decision: OwnershipDecision) -> list[Block]:
    confirmed = ", ".join(f"{side.label}: <@{user}>" for side, user in decision.confirmed_by.items())
    took = ""
    if incident.decided_at is not None:
        took = f" · {span_text(incident.decided_at - incident.created_at)} from opening to decision"
    reasons = (
        "\n".join(f"• {escape(r.text)}" for r in decision.rationale[:10]) or "• (no evidence item drove it)"
    )
    return [
        HeaderBlock(text=_plain(f"Ownership decided: {decision.owner.label}", 150)),
        SectionBlock(text=_md(decision_summary(incident, decision) + f"\n_{decision.summary}_")),
        SectionBlock(text=_md(f"*Why*\n{reasons}")),
        ContextBlock(elements=[_md(f"Confirmed by {confirmed}{took}")]),
    ]


def decision_text(incident: Incident, decision: OwnershipDecision) -> str:
    asset = f", failed asset {decision.failed_asset}" if decision.failed_asset else ""
    return f"{incident.id}: ownership decided: {decision.owner.label}{asset}"


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
        HeaderBlock(text=_plain("Verdicts disagree: joint triage needed", 150)),
        SectionBlock(text=_md(f"*Conflict*\n{conflicts}")),
    ]
    if evidence:
        blocks.append(SectionBlock(text=_md(f"*Conflicting evidence*\n{truncate(evidence, 2900)}")))
    blocks.append(
        SectionBlock(
            text=_md(
                truncate(
                    f"Both confirmations were cleared. {everyone} please triage together, then confirm again.",
                    3000,
                )
            )
        )
    )
    return blocks


def dispute_text(incident: Incident) -> str:
    return f"{incident.id}: the sides' verdicts disagree; joint triage needed"


# --- Lists and help ----------------------------------------------------------------------------------------


def incident_list(incidents: Sequence[Incident]) -> list[Block]:
    if not incidents:
        return [SectionBlock(text=_md("No open incidents. :tada:"))]
    blocks: list[Block] = [HeaderBlock(text=_plain(f"Open incidents ({len(incidents)})", 150))]
    for incident in incidents[:45]:
        where = f"<#{incident.channel_id}>" if incident.channel_id else "(channel pending)"
        blocks.append(
            SectionBlock(
                text=_md(
                    f"{SEVERITY_EMOJI[incident.severity]} *{incident.id}* {escape(incident.title)} · "
                    f"{incident.state.value} · {where}"
                )
            )
        )
    if len(incidents) > 45:
        blocks.append(ContextBlock(elements=[_md(f"and {len(incidents) - 45} more")]))
    return blocks


def help_text(command: str) -> str:
    return "\n".join(
        [
            f"*{command}* — evidence-based incident handoff between MLOps and DataOps",
            f"`{command} open [title] [sev1..sev4]` open an incident (no title: a form)",
            f"`{command} status` the incident of this channel",
            f"`{command} list` open incidents",
            f"`{command} run <playbook>` run a playbook for this channel's incident",
            f"`{command} close <resolution note>` close a decided incident",
            f"`{command} reopen <why>` withdraw a decision made in error",
            f"`{command} help` this message",
        ]
    )


# --- Reminders, escalation and the daily digest ------------------------------------------------------------

DIGEST_LIST_LIMIT = 10  # lines per digest list; the counts above them stay exact


def span(seconds: float) -> str:
    """`45 min`, `2 h 15 min`, `3 d 4 h`: how long an incident has been quiet."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def snooze_buttons(incident_id: str) -> ActionsBlock:
    """One button per snooze choice; action ids carry an index because they must differ within a block."""
    return ActionsBlock(
        elements=[
            ButtonElement(
                text=_plain(choice.label, 75),
                action_id=f"{ActionId.SNOOZE}.{n}",
                value=pack(incident_id, choice.value),
            )
            for n, choice in enumerate(SnoozeChoice)
        ]
    )


def reminder_text(incident: Incident, due: Due) -> str:
    kind = "escalation" if due.escalation else "reminder"
    idle = span(due.idle_for.total_seconds())
    return f"{incident.id} {kind} {due.number}: no activity for {idle}; waiting on {waiting_sides(due.owed)}"


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
    blocks: list[Block] = [SectionBlock(text=_md(head))]
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
        blocks.append(SectionBlock(text=_md(truncate(text, 3000))))
    blocks.append(
        ContextBlock(
            elements=[_md("Any evidence, confirmation or message in this channel resets the reminder clock.")]
        )
    )
    blocks.append(snooze_buttons(incident.id))
    return blocks


def escalation_notice(incident: Incident, due: Due, leads: dict[Side, Sequence[str]]) -> list[Block]:
    """The triage channel's copy of an escalation: which incident, how quiet, waiting on whom."""
    where = f"<#{incident.channel_id}>" if incident.channel_id else "(no channel)"
    lines = [
        f":rotating_light: *{incident.id} escalated* {SEVERITY_EMOJI[incident.severity]} "
        f"{incident.severity.label} · {escape(incident.title)} · {where}",
        f"No activity for {span(due.idle_for.total_seconds())}; {due.number - 1} reminder(s) unanswered.",
    ]
    for side in Side:
        if side in due.owed:
            named = mentions(leads.get(side, [])) or "no lead configured"
            lines.append(f"*Waiting on {side.label}* ({escape(', '.join(due.owed[side]))}): {named}")
    return [SectionBlock(text=_md(truncate("\n".join(lines), 3000)))]


def escalation_text(incident: Incident, due: Due) -> str:
    idle = span(due.idle_for.total_seconds())
    return f"{incident.id} escalated: no activity for {idle}; waiting on {waiting_sides(due.owed)}"


def snoozed_text(incident_id: str, user_id: str, until: datetime) -> str:
    return f"Reminders for {incident_id} snoozed until {_ts(until)} by <@{user_id}>."


def _digest_line(line: DigestLine) -> str:
    where = f" · <#{line.channel_id}>" if line.channel_id else ""
    return (
        f"{SEVERITY_EMOJI[line.severity]} *{line.incident_id}* {escape(truncate(line.title, 80))} · "
        f"{line.state.value} · opened {_ts(line.opened_at)} · quiet {span(line.idle_for.total_seconds())}"
        f"{where}"
    )


def _digest_list(title: str, lines: Sequence[DigestLine]) -> SectionBlock:
    shown = [f"• {_digest_line(line)}" for line in lines[:DIGEST_LIST_LIMIT]]
    if len(lines) > DIGEST_LIST_LIMIT:
        shown.append(f"and {len(lines) - DIGEST_LIST_LIMIT} more")
    return SectionBlock(text=_md(truncate(f"*{title}*\n" + "\n".join(shown or ["none"]), 3000)))


def digest_text(digest: Digest) -> str:
    return f"Incident digest {digest.day.isoformat()}: {digest.total} open incident(s)"


def digest_message(digest: Digest) -> list[Block]:
    """The daily digest for the triage channel: counts, the oldest, and what each side is waiting on."""
    blocks: list[Block] = [HeaderBlock(text=_plain(f"Incident digest, {digest.day.isoformat()}", 150))]
    if digest.total == 0:
        blocks.append(SectionBlock(text=_md("No open incidents. :tada:")))
        return blocks
    severities = " · ".join(f"{sev.label}: {n}" for sev, n in digest.by_severity.items())
    states = " · ".join(f"{state.value.capitalize()}: {n}" for state, n in digest.by_state.items())
    blocks.append(
        SectionBlock(
            fields=[
                _md(f"*Open*\n{digest.total}"),
                _md(f"*By severity*\n{severities}"),
                _md(f"*By state*\n{states}"),
            ]
        )
    )
    blocks.append(_digest_list("Oldest", digest.oldest))
    for side in Side:
        waiting = digest.waiting_on.get(side, [])
        blocks.append(_digest_list(f"Waiting on {side.label} ({len(waiting)})", waiting))
    return blocks


# --- Playbook runs -----------------------------------------------------------------------------------------

STEP_EMOJI = {
    "pending": ":white_circle:",
    "running": ":hourglass_flowing_sand:",
    "ok": ":white_check_mark:",
    "anomalous": ":red_circle:",
    "inconclusive": ":grey_question:",
    "failed": ":x:",
}


def playbook_progress(
    name: str,
    side: Side,
    incident_id: str,
    started_by: str | None,
    steps: Sequence[tuple[str, str, str, str, float | None]],
    done: bool,
    wall: float | None,
) -> list[Block]:
    """One message per run, updated as steps finish: (step id, kind, state, detail, seconds) per step."""
    who = f"<@{started_by}>" if started_by else "the incident opening"
    state = "finished" if done else "running"
    blocks: list[Block] = [
        SectionBlock(
            text=_md(
                f"*Playbook* `{escape(name)}` ({side.label}) for {incident_id}, started by {who}: {state}"
            )
        )
    ]
    for step_id, kind, step_state, detail, seconds in steps[:45]:
        took = f" · {seconds:.2f} s" if seconds is not None else ""
        line = (
            f"{STEP_EMOJI.get(step_state, ':white_circle:')} *{escape(step_id)}* `{kind}` {step_state}{took}"
        )
        if detail:
            line += f"\n{escape(truncate(detail, 500))}"
        blocks.append(SectionBlock(text=_md(line)))
    if done and wall is not None:
        blocks.append(
            ContextBlock(elements=[_md(f"Wall time {wall:.2f} s; findings were written to the checklist.")])
        )
    return blocks
