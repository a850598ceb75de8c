"""Modal submission listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services.deps import Services
from handlers.views import forms


def register(app: AsyncApp, services: Services) -> None:
    forms.register(app, services)
