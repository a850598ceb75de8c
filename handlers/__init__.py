"""Bolt listeners by Slack surface, plus the HTTP webhooks; each listener acks, parses, calls one service."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services.deps import Services
from handlers import actions, commands, errors, events, views


def register_listeners(app: AsyncApp, services: Services) -> None:
    """Every surface's `register(app, services)`, in one place (tests load this wiring)."""
    errors.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    events.register(app, services)
