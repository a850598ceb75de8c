"""Slash command listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services.deps import Services
from handlers.commands import incident


def register(app: AsyncApp, services: Services) -> None:
    incident.register(app, services)
