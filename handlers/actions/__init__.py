"""Block action listeners (buttons in the checklists, reminders and progress messages)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services.deps import Services
from handlers.actions import checklist, snooze


def register(app: AsyncApp, services: Services) -> None:
    checklist.register(app, services)
    snooze.register(app, services)
