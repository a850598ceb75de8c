"""Alert webhooks: `POST /alerts/{source}` for monitoring and data-quality tools."""

from handlers.alerts.webhook import alert_routes

__all__ = ["alert_routes"]
