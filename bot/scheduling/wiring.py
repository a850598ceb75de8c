"""Attach reminders to a built bot: the ReminderService in extras, the scheduler's start and stop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.scheduling.scheduler import build_scheduler, start_scheduler, stop_scheduler
from bot.services.reminders import ReminderService

if TYPE_CHECKING:
    from bot.app import Handoff


def attach_reminders(handoff: Handoff) -> None:
    """Put the ReminderService in `extras["reminders"]` (for the snooze listener); schedule its ticks."""
    services = handoff.services
    service = ReminderService(
        services.config, services.store, services.gateway, services.directory, services.clock
    )
    handle = build_scheduler(service, services.config.reminders)
    extras = services.extras
    extras["reminders"] = service
    extras["reminder_scheduler"] = handle

    async def start() -> None:
        await start_scheduler(handle)

    async def stop() -> None:
        await stop_scheduler(handle)

    extras.setdefault("starters", []).append(start)
    extras.setdefault("stoppers", []).append(stop)
