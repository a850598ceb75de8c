"""The open-incident list and the slash command's help text."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock

from bot.domain.incident import Incident
from bot.slack import escape as esc
from bot.slack.blocks.text import SEVERITY_EMOJI, escape, md, plain


def incident_list(incidents: Sequence[Incident]) -> list[Block]:
    if not incidents:
        return [SectionBlock(text=md("No open incidents. :tada:"))]
    blocks: list[Block] = [HeaderBlock(text=plain(f"Open incidents ({len(incidents)})", 150))]
    for incident in incidents[:45]:
        where = esc.channel_mention(incident.channel_id) if incident.channel_id else "(channel pending)"
        blocks.append(
            SectionBlock(
                text=md(
                    f"{SEVERITY_EMOJI[incident.severity]} *{incident.id}* {escape(incident.title)} · "
                    f"{incident.state.value} · {where}"
                )
            )
        )
    if len(incidents) > 45:
        blocks.append(ContextBlock(elements=[md(f"and {len(incidents) - 45} more")]))
    return blocks


@lru_cache(maxsize=8)  # one command name per bot: built once, not per `/incident help`
def help_text(command: str) -> str:
    """The usage; `<playbook>` and the like are escaped, or Slack would take them for links."""
    return "\n".join(
        escape(line)
        for line in [
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
