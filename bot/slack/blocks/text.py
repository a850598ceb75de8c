"""Text helpers for Block Kit: text objects, truncation, dates, durations and mentions.

The escaping itself is bot.slack.escape (one function per context); these helpers only apply it: `plain`
escapes what it is given, `escape` is escape.mrkdwn, `truncate` never cuts inside an entity or a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import MarkdownTextObject, PlainTextObject

from bot.domain.models import Severity
from bot.slack import escape as esc

SEVERITY_EMOJI = {
    Severity.SEV1: ":rotating_light:",
    Severity.SEV2: ":warning:",
    Severity.SEV3: ":large_orange_diamond:",
    Severity.SEV4: ":small_blue_diamond:",
}


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Built mrkdwn cut to `limit`, never inside an entity (`&amp;`) or a `<…>` token."""
    return esc.cut(text, limit, marker)


def escape(text: str, limit: int | None = None) -> str:
    """Outside text for mrkdwn (escape.mrkdwn): it cannot mention, link or break a token."""
    return esc.mrkdwn(text, limit)


def date_text(at: datetime | None) -> str:
    """A date Slack shows in the reader's time zone, with a UTC fallback."""
    if at is None:
        return ""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def mentions(user_ids: Sequence[str]) -> str:
    return esc.mentions(user_ids)


def plain(text: str, limit: int) -> PlainTextObject:
    """A plain_text object (emoji on) of any text, escaped (escape.plain_text) and cut to `limit`; never empty."""
    shown = esc.plain_text(text, limit)
    return PlainTextObject(text=shown if shown.strip() else "(empty)", emoji=True)


def md(text: str, limit: int = 3000) -> MarkdownTextObject:
    """A mrkdwn text object of built mrkdwn (outside text in it already escaped), cut to `limit`; never empty."""
    shown = truncate(text, limit)
    return MarkdownTextObject(text=shown if shown.strip() else "_(empty)_")


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


def span(seconds: float) -> str:
    """`45 min`, `2 h 15 min`, `3 d 4 h`: how long an incident has been quiet."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"
