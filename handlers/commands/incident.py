"""`/incident`: parse the subcommand, ack at once, do the slow part after the ack."""

from __future__ import annotations

import hashlib
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import DomainError
from bot.services.deps import Services
from bot.services.incidents import OpenRequest
from bot.slack import blocks
from bot.slack.parse import (
    CloseCommand,
    HelpCommand,
    ListCommand,
    OpenCommand,
    ReopenCommand,
    RunCommand,
    StatusCommand,
    parse_command,
)
from handlers.errors import ack_then, reporting


def _request_key(body: dict[str, Any], title: str, severity: str) -> str:
    # The same person opening the same title twice within the key's TTL gets the first incident back.
    raw = f"{body.get('team_id')}|{body.get('user_id')}|{title.lower()}|{severity}"
    return "cmd:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def register(app: AsyncApp, services: Services) -> None:
    command_name = services.config.command

    async def ack_command(ack: AsyncAck, body: dict[str, Any]) -> bool:
        try:
            parsed = parse_command(body.get("text", ""), command_name)
        except DomainError as exc:
            await ack(text=f":warning: {exc}")
            return False
        if isinstance(parsed, HelpCommand):
            await ack(text=blocks.help_text(command_name))
            return False
        if isinstance(parsed, OpenCommand) and parsed.title:
            opening = f"Opening *{blocks.escape(parsed.title)}* ({parsed.severity.label})…"
            await ack(text=f":hourglass_flowing_sand: {opening}")
        else:
            await ack()
        return True

    @reporting
    async def run_command(
        body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, **_: Any
    ) -> None:
        try:
            parsed = parse_command(body.get("text", ""), command_name)
        except DomainError:
            return  # already answered in the ack
        user, channel = body["user_id"], body["channel_id"]
        if isinstance(parsed, ListCommand):
            incidents = await services.incidents.list_open()
            await respond(
                text=f"{len(incidents)} open incident(s)",
                blocks=[b.to_dict() for b in blocks.incident_list(incidents)],
                response_type="ephemeral",
            )
        elif isinstance(parsed, StatusCommand):
            incident = await services.incidents.status(channel, parsed.incident_id)
            card = await services.incidents.messages.card(incident)
            await respond(
                text=blocks.card_text(incident), blocks=[b.to_dict() for b in card], response_type="ephemeral"
            )
        elif isinstance(parsed, OpenCommand):
            if parsed.title is None:
                await services.gateway.open_view(
                    body["trigger_id"], blocks.open_incident_modal(channel_id=channel)
                )
                return
            incident, created = await services.incidents.open_incident(
                OpenRequest(
                    title=parsed.title,
                    severity=parsed.severity,
                    origin="command",
                    opened_by=user,
                    idempotency_key=_request_key(body, parsed.title, parsed.severity.value),
                )
            )
            verb = "Opened" if created else "Already open:"
            await respond(text=f"{verb} {incident.id} in <#{incident.channel_id}>", response_type="ephemeral")
        elif isinstance(parsed, CloseCommand):
            await services.incidents.close(channel, user, parsed.note)
        elif isinstance(parsed, ReopenCommand):
            await services.incidents.reopen(channel, user, parsed.reason)
        elif isinstance(parsed, RunCommand):
            runner = services.extras.get("playbooks")
            if runner is None:
                raise DomainError("Playbooks are not enabled on this bot.")
            incident = await services.incidents.for_channel(channel)
            await runner.run_by_name(incident.id, parsed.playbook, user)

    app.command(command_name)(ack_then(ack_command, run_command))
