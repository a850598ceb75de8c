"""Events API listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services.deps import Services
from handlers.events import activity


def register(app: AsyncApp, services: Services) -> None:
    activity.register(app, services)
