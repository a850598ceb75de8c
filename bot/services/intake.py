"""Alert intake: what the alert webhook calls once it has authenticated and normalised a payload."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.alerts import Alert
from bot.domain.errors import IntakeUnavailable, StoreUnavailable
from bot.store.alert_inbox import AlertInbox


class AlertIntake:
    """Keeps accepted alerts durably until the consumer (AlertService) turns them into incidents."""

    def __init__(self, inbox: AlertInbox) -> None:
        self._inbox = inbox

    async def accept(self, alerts: Sequence[Alert]) -> None:
        """Keep the alerts, all or none; IntakeUnavailable when they could not be kept (the sender retries)."""
        try:
            await self._inbox.put(alerts)
        except StoreUnavailable as exc:
            raise IntakeUnavailable(str(exc)) from exc
