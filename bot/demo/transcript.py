"""The terminal view of the demo: the incident channel as it unfolds, with the time each step took."""

from __future__ import annotations

import re
import time
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")
_MENTION = re.compile(r"<[@#!]([^>|]+)(?:\|[^>]*)?>")
_DATE = re.compile(r"<!date\^\d+\^[^|]*\|([^>]*)>")
_EMOJI = {
    ":white_check_mark:": "✅",
    ":red_circle:": "🔴",
    ":grey_question:": "❔",
    ":heavy_minus_sign:": "—",
    ":x:": "❌",
    ":hourglass_flowing_sand:": "⏳",
    ":white_circle:": "⚪",
    ":rotating_light:": "🚨",
    ":warning:": "⚠️",
    ":bell:": "🔔",
    ":large_orange_diamond:": "🔶",
    ":small_blue_diamond:": "🔹",
}


def plain(text: str, names: dict[str, str]) -> str:
    """Slack mrkdwn as terminal text: dates, links and mentions resolved, emphasis dropped."""
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(r"\2", text)
    text = _MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    for code, glyph in _EMOJI.items():
        text = text.replace(code, glyph)
    return text.replace("*", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def block_lines(blocks: list[dict[str, Any]], names: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("header", "section") and block.get("text"):
            lines.append(plain(str(block["text"].get("text", "")), names))
        if kind == "section" and block.get("fields"):
            lines.append(
                "  ".join(plain(str(f.get("text", "")), names).replace("\n", ": ") for f in block["fields"])
            )
        if kind == "context":
            lines.append(" ".join(plain(str(e.get("text", "")), names) for e in block.get("elements", [])))
        if kind == "actions":
            buttons = [str(e.get("text", {}).get("text", "")) for e in block.get("elements", [])]
            lines.append("[" + "] [".join(buttons) + "]")
    return lines


class Transcript:
    """Prints each new or edited message of the channels it watches, and timed steps."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.started = time.perf_counter()
        self._last_step = self.started
        self._seen: dict[tuple[str, str], str] = {}

    def elapsed(self) -> str:
        return f"+{time.perf_counter() - self.started:6.2f}s"

    def step(self, text: str) -> float:
        """A milestone, with the time since the previous one."""
        now = time.perf_counter()
        took = now - self._last_step
        self._last_step = now
        self.console.print(f"[bold cyan]{self.elapsed()}[/] [bold]{text}[/] [dim]({took:.2f} s)[/]")
        return took

    def note(self, text: str) -> None:
        self.console.print(f"[dim]{self.elapsed()}[/] {text}")

    def line(self, text: str) -> None:
        """A plain line, never wrapped (a URL stays whole) nor styled, written out at once."""
        self.console.print(text, soft_wrap=True, markup=False, highlight=False, emoji=False)
        self.console.file.flush()

    def show(self, channel_name: str, message: Any, names: dict[str, str]) -> None:
        key = (channel_name, str(message.ts))
        body = "\n".join(block_lines(list(message.blocks or []), names)) or plain(str(message.text), names)
        if self._seen.get(key) == body:
            return
        edited = key in self._seen
        self._seen[key] = body
        author = names.get(str(message.user), str(message.user))
        title = f"#{channel_name} · {author}{' (edited)' if edited else ''}{' 📌' if message.pinned else ''}"
        self.console.print(
            Panel(Text(body), title=title, title_align="left", border_style="dim" if edited else "blue")
        )
