"""`/incident`: parse the subcommand in the ack, then run its one function from the table after the ack."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from slack_bolt.async_app import AsyncAck, AsyncApp

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
from handlers.listener import ack_then
from handlers.request import Request


def request_key(request: Request, title: str, severity: str) -> str:
    """The same person opening the same title twice within the key's TTL gets the first incident back."""
    raw = f"{request.body.get('team_id')}|{request.user_id}|{title.lower()}|{severity}"
    return "cmd:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


async def ack_command(services: Services, ack: AsyncAck, body: dict[str, Any]) -> BaseModel | None:
    """Usage errors and help are the whole answer; an opening says so at once; the rest acks empty."""
    name = services.config.command
    try:
        command = parse_command(body.get("text", ""), name)
    except DomainError as exc:
        await ack(text=blocks.warning_text(str(exc)))
        return None
    if isinstance(command, HelpCommand):
        await ack(text=blocks.help_text(name))
        return None
    if isinstance(command, OpenCommand) and command.title:
        await ack(text=blocks.opening_text(command.title, command.severity.label))
    else:
        await ack()
    return command


async def list_incidents(services: Services, request: Request, _: ListCommand) -> None:
    incidents = await services.incidents.list_open(request.user_id)
    listing = [b.to_dict() for b in blocks.incident_list(incidents)]
    await request.reply(services, f"{len(incidents)} open incident(s)", listing)


async def show_status(services: Services, request: Request, command: StatusCommand) -> None:
    incident = await services.incidents.status(request.channel_id or "", command.incident_id, request.user_id)
    card = await services.incidents.card(incident)
    await request.reply(services, blocks.card_text(incident), [b.to_dict() for b in card])


async def open_incident(services: Services, request: Request, command: OpenCommand) -> None:
    if command.title is None:
        modal = blocks.open_incident_modal(channel_id=request.channel_id or "")
        await services.replies.open_form(request.trigger_id, modal)
        return
    incident, created = await services.incidents.open_incident(
        OpenRequest(
            title=command.title,
            severity=command.severity,
            origin="command",
            opened_by=request.user_id,
            idempotency_key=request_key(request, command.title, command.severity.value),
        )
    )
    await request.reply(services, blocks.opened_text(incident.id, incident.channel_id, created))


async def close_incident(services: Services, request: Request, command: CloseCommand) -> None:
    await services.incidents.close(request.channel_id or "", request.user_id, command.note)


async def reopen_incident(services: Services, request: Request, command: ReopenCommand) -> None:
    await services.incidents.reopen(request.channel_id or "", request.user_id, command.reason)


async def run_playbook(services: Services, request: Request, command: RunCommand) -> None:
    incident = await services.incidents.for_channel(request.channel_id or "")
    await services.playbooks.run_by_name(incident.id, command.playbook, request.user_id)


Subcommand = Callable[[Services, Request, Any], Awaitable[None]]

SUBCOMMANDS: dict[type[BaseModel], Subcommand] = {
    ListCommand: list_incidents,
    StatusCommand: show_status,
    OpenCommand: open_incident,
    CloseCommand: close_incident,
    ReopenCommand: reopen_incident,
    RunCommand: run_playbook,
}


async def run_subcommand(services: Services, request: Request, command: BaseModel) -> None:
    """The parsed command (a `bot.slack.parse.Command`) goes to its subcommand's function, unparsed again."""
    await SUBCOMMANDS[type(command)](services, request, command)


def register(app: AsyncApp, services: Services) -> None:
    app.command(services.config.command)(ack_then(services, ack_command, run_subcommand))
