"""Short answers only the person who acted sees: acks, receipts and refusals."""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack import escape as esc
from bot.slack.blocks.text import escape

WARNING_LIMIT = 2900


def warning_text(message: str) -> str:
    """A refusal in plain words; the words may quote what the person typed, so they are escaped."""
    return f":warning: {escape(message, WARNING_LIMIT)}"


def opening_text(title: str, severity_label: str) -> str:
    """The slash command's ack while the incident opens."""
    return f":hourglass_flowing_sand: Opening *{escape(title, 600)}* ({severity_label})…"


def opened_text(incident_id: str, channel_id: str | None, created: bool) -> str:
    """The receipt of an opening: where the incident lives (or already lived)."""
    where = esc.channel_mention(channel_id) if channel_id else "(its channel is being created)"
    return f"{'Opened' if created else 'Already open:'} {incident_id} in {where}"


def verdict_text(side_label: str, waiting: Sequence[str]) -> str:
    return f"Thanks, {side_label}'s verdict is recorded. Waiting for: {escape(', '.join(waiting))}."
