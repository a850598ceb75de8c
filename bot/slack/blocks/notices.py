"""Plain posts in an incident's channel: alert updates, close and reopen notices, invitation failures, full texts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.slack import escape as esc
from bot.slack.blocks.text import escape

NOTES_SHOWN = 30  # alert updates listed in one announcement; the rest are counted (all are on the timeline)
NOTE_LIMIT = 1000  # one alert update, escaped: 30 of them stay under a message's limit
NOTE_TEXT_LIMIT = 30_000  # a resolution note or a reopening reason, escaped


def alert_updates_text(incident_id: str, notes: Sequence[str], all_resolved: bool) -> str:
    """One announcement of a burst of alert updates (`Firing: <summary> (<source>)`, as the alert said)."""
    lines = "\n".join(f"• {escape(n, NOTE_LIMIT)}" for n in notes[:NOTES_SHOWN])
    more = f"\n…and {len(notes) - NOTES_SHOWN} more (see the timeline)" if len(notes) > NOTES_SHOWN else ""
    text = f":bell: {len(notes)} alert update(s) for {incident_id}:\n{lines}{more}"
    if all_resolved:
        text += (
            "\n:white_check_mark: All of this incident's alerts are resolved. It stays open until both sides "
            "agree on the ownership decision and someone closes it."
        )
    return esc.cut(text, esc.MESSAGE_LIMIT)


def closed_text(incident_id: str, user_id: str, note: str) -> str:
    return f"{incident_id} closed by {esc.user_mention(user_id)}. Resolution: {escape(note, NOTE_TEXT_LIMIT)}"


def reopened_text(incident_id: str, user_id: str, reason: str) -> str:
    return (
        f"{incident_id} reopened by {esc.user_mention(user_id)}: {escape(reason, NOTE_TEXT_LIMIT)}. "
        "The decision is withdrawn; both sides confirm again."
    )


def invite_failures_text(failed: Mapping[str, str]) -> str:
    """The people the opening could not invite, with Slack's reason for each."""
    lines = ", ".join(f"{esc.user_mention(user)} ({escape(error, 200)})" for user, error in failed.items())
    return esc.cut(f"Could not invite: {lines}. Add them by hand.", esc.MESSAGE_LIMIT)


def full_text(label: str, detail: str) -> str:
    """The whole detail of a checklist item, in the thread of its checklist when the line had to cut it."""
    return esc.cut(f"*{escape(label, 200)}* (full text):\n{escape(detail)}", esc.MESSAGE_LIMIT)
