"""All Block Kit the bot sends, built with slack_sdk.models, one module per surface; re-exported here."""

from __future__ import annotations

from bot.slack.blocks.card import card_text, incident_card, topic
from bot.slack.blocks.checklist import DETAIL_LIMIT, STATUS_EMOJI, checklist, checklist_text, item_line
from bot.slack.blocks.decisions import (
    decision_message,
    decision_summary,
    decision_text,
    dispute_message,
    dispute_text,
    proposal_lines,
)
from bot.slack.blocks.forms import (
    ASSET_OPTIONS,
    SEVERITY_OPTIONS,
    STATUS_OPTIONS,
    VERDICT_OPTIONS,
    evidence_modal,
    open_incident_modal,
    verdict_modal,
)
from bot.slack.blocks.lists import help_text, incident_list
from bot.slack.blocks.notices import (
    alert_updates_text,
    closed_text,
    full_text,
    invite_failures_text,
    reopened_text,
)
from bot.slack.blocks.playbook_runs import STEP_EMOJI, playbook_note, playbook_progress, playbook_text
from bot.slack.blocks.reminders import (
    DIGEST_LIST_LIMIT,
    digest_message,
    digest_text,
    escalation_notice,
    escalation_text,
    reminder_message,
    reminder_text,
    snooze_buttons,
    snoozed_text,
)
from bot.slack.blocks.replies import opened_text, opening_text, verdict_text, warning_text
from bot.slack.blocks.text import (
    SEVERITY_EMOJI,
    date_text,
    escape,
    md,
    mentions,
    plain,
    span,
    span_text,
    truncate,
)

__all__ = [
    "ASSET_OPTIONS",
    "DETAIL_LIMIT",
    "DIGEST_LIST_LIMIT",
    "SEVERITY_EMOJI",
    "SEVERITY_OPTIONS",
    "STATUS_EMOJI",
    "STATUS_OPTIONS",
    "STEP_EMOJI",
    "VERDICT_OPTIONS",
    "alert_updates_text",
    "card_text",
    "checklist",
    "checklist_text",
    "closed_text",
    "date_text",
    "decision_message",
    "decision_summary",
    "decision_text",
    "digest_message",
    "digest_text",
    "dispute_message",
    "dispute_text",
    "escalation_notice",
    "escalation_text",
    "escape",
    "evidence_modal",
    "full_text",
    "help_text",
    "incident_card",
    "incident_list",
    "invite_failures_text",
    "item_line",
    "md",
    "mentions",
    "open_incident_modal",
    "opened_text",
    "opening_text",
    "plain",
    "playbook_note",
    "playbook_progress",
    "playbook_text",
    "proposal_lines",
    "reminder_message",
    "reminder_text",
    "reopened_text",
    "snooze_buttons",
    "snoozed_text",
    "span",
    "span_text",
    "topic",
    "truncate",
    "verdict_modal",
    "verdict_text",
    "warning_text",
]
