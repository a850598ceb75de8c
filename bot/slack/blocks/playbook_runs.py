"""The progress message of a playbook run, updated as its steps finish."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

from bot.domain.models import Side
from bot.slack import escape as esc
from bot.slack.blocks.text import escape, md

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
    who = esc.user_mention(started_by) if started_by else "the incident opening"
    state = "finished" if done else "running"
    blocks: list[Block] = [
        SectionBlock(
            text=md(
                f"*Playbook* `{escape(name)}` ({side.label}) for {incident_id}, started by {who}: {state}"
            )
        )
    ]
    for step_id, kind, step_state, detail, seconds in steps[:45]:
        took = f" · {seconds:.2f} s" if seconds is not None else ""
        line = (
            f"{STEP_EMOJI.get(step_state, ':white_circle:')} *{escape(step_id)}* `{escape(kind)}` "
            f"{escape(step_state)}{took}"
        )
        if detail:
            line += f"\n{escape(detail, 500)}"
        blocks.append(SectionBlock(text=md(line)))
    if done and wall is not None:
        blocks.append(
            ContextBlock(elements=[md(f"Wall time {wall:.2f} s; findings were written to the checklist.")])
        )
    return blocks


def playbook_text(name: str, incident_id: str) -> str:
    """The fallback text of a run's progress message."""
    return esc.fallback(f"Playbook {name} for {incident_id}")


def playbook_note(text: str) -> Block:
    """A line under a run's progress (e.g. that another worker resumed it)."""
    return ContextBlock(elements=[md(escape(text))])
