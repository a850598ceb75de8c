"""The one escaping discipline: how text that came from outside (an alert, a form, a command, a playbook)
reaches Slack. One function per context; everything the bot sends goes through one of them.

- `mrkdwn`: user text inside mrkdwn (section text, context, the `text` of a post without blocks).
- `plain_text`: user text inside a plain_text object (headers, buttons, labels, options).
- `link_label`, `link_url`, `link`: a link the bot builds; only an http(s) URL becomes one.
- `topic`: a channel topic (plain, one line, at most 250 characters).
- `fallback`: the `text` of a post that has blocks (notifications, screen readers).
- `user_mention`, `channel_mention`, `mentions`: the `<@U…>` and `<#C…>` the bot builds of ids it knows.
- `cut`: truncation of built text that never cuts inside an entity (`&amp;`) or a `<…>` token.

Slack treats `&`, `<` and `>` as control characters in every text field (mrkdwn, plain_text, topics and
fallback texts alike) and decodes `&amp;`, `&lt;` and `&gt;` for display, so all of them are escaped the
same way. Bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) are dropped from outside text so
that it cannot reorder the bot's own text around it; the plain marks U+200E and U+200F stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

TOPIC_LIMIT = 250  # conversations.setTopic
FALLBACK_LIMIT = 3000  # the `text` beside blocks: what notifications show
MESSAGE_LIMIT = 39_000  # a post's `text` (Slack cuts at 40,000)
LINK_LABEL_LIMIT = 200
URL_LIMIT = 3000

_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_WHITESPACE_RUN = re.compile(r"\s+")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NETLOC = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?(?::[0-9]{{1,5}})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{{1,5}})?")
# Characters a URL may keep as they are (RFC 3986 reserved and unreserved, and `%` of existing escapes);
# everything else (`<`, `>`, `|`, `"`, `` ` ``, spaces, non-ASCII) is percent-encoded.
_URL_SAFE = "/?#[]@!$&'()*+,;=:%~-._"


def _clean(text: str) -> str:
    return str(text).translate(_BIDI_CONTROLS)


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int, marker: str = "…") -> str:
    """`text` (already escaped or built) in at most `limit` characters, `marker` at the end when it was cut.

    Never ends inside an entity (`&amp;`, `&lt;`, `&gt;`) or inside a `<…>` token the bot built.
    """
    if len(text) <= limit:
        return text
    if limit <= len(marker):
        return marker[:limit]
    head = text[: limit - len(marker)]
    while True:
        before = head
        opened = head.rfind("<")
        if opened != -1 and ">" not in head[opened:]:
            head = head[:opened]
        amp = head.rfind("&")
        if amp != -1 and ";" not in head[amp:]:
            head = head[:amp]
        if head == before:
            break
    return head.rstrip() + marker


def mrkdwn(text: str, limit: int | None = None) -> str:
    """Outside text for a mrkdwn field: `&`, `<`, `>` escaped, so it cannot mention, link or format a token."""
    escaped = _entities(_clean(text))
    return escaped if limit is None else cut(escaped, limit)


def plain_text(text: str, limit: int) -> str:
    """Text for a plain_text object, escaped like mrkdwn (Slack decodes the same three entities there)."""
    return cut(_entities(_clean(text)), limit)


def topic(text: str) -> str:
    """A channel topic: escaped, on one line, at most 250 characters."""
    return cut(_entities(_WHITESPACE_RUN.sub(" ", _clean(text)).strip()), TOPIC_LIMIT)


def fallback(text: str, limit: int = FALLBACK_LIMIT) -> str:
    """The `text` of a post with blocks (what notifications and screen readers show): escaped mrkdwn."""
    return cut(_entities(_clean(text)), limit)


def link_label(text: str, limit: int = LINK_LABEL_LIMIT) -> str:
    """The label of `<url|label>`: escaped, on one line."""
    return cut(_entities(_WHITESPACE_RUN.sub(" ", _clean(text)).strip()), limit)


def link_url(url: str | None) -> str | None:
    """`url` ready for `<url|…>` when it is an absolute http(s) URL with a plain host; else None.

    No credentials (`https://ok@evil`), no other scheme (`javascript:`, `data:`, `mailto:`), no relative
    URL. What a URL may not carry inside `<…>` (`<`, `>`, `|`, spaces, quotes) is percent-encoded; `&` is
    escaped as `&amp;`, which Slack decodes.
    """
    if not url:
        return None
    url = url.strip()
    if not url or len(url) > URL_LIMIT or any(ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if "@" in parts.netloc or not _NETLOC.fullmatch(parts.netloc):
        return None
    rest = (
        parts.path
        + (f"?{parts.query}" if parts.query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )
    built = f"{parts.scheme.lower()}://{parts.netloc.lower()}{quote(rest, safe=_URL_SAFE)}"
    built = built.replace("&", "&amp;")
    return built if len(built) <= URL_LIMIT else None


def link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL; anything else is shown as escaped text, not as a link."""
    safe = link_url(url)
    if safe is not None:
        return f"<{safe}|{link_label(label)}>"
    if not url:
        return link_label(label)
    return f"{link_label(label)} ({mrkdwn(url, LINK_LABEL_LIMIT)})"


def user_mention(user_id: str) -> str:
    """`<@U…>` of a user id the bot knows (from its config, its directory or a Slack payload)."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else mrkdwn(user_id)


def channel_mention(channel_id: str) -> str:
    """`<#C…>` of a channel the bot knows."""
    return f"<#{channel_id}>" if _CHANNEL_ID.fullmatch(channel_id) else mrkdwn(channel_id)


def mentions(user_ids: Iterable[str]) -> str:
    return " ".join(user_mention(u) for u in user_ids)
