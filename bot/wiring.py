"""Optional capabilities (alert webhooks, playbooks, reminders) attached to a built bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import HandoffConfig

if TYPE_CHECKING:
    from bot.app import Handoff
    from playbooks.schema import Playbook


def attach_alerts(handoff: Handoff) -> None:
    """`POST /alerts/<source>` persists alerts; a background consumer turns them into incidents."""
    from bot.logging import register_secrets
    from bot.services.alerts import AlertService
    from bot.store.alert_inbox import AlertInbox
    from handlers.alerts import alert_routes

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
        reclaim_idle_ms=int(config.reclaim_after.total_seconds() * 1000),
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


def load_all_playbooks(config: HandoffConfig) -> list[Playbook]:
    from playbooks.loader import load_playbooks

    return load_playbooks(config.playbooks.folders, builtin=config.playbooks.builtin)


def attach_playbooks(handoff: Handoff) -> None:
    """Playbooks run as incidents open and by hand; findings fill the checklists."""
    import os

    import httpx

    from bot.services.playbooks import PlaybookService
    from bot.store.snapshots import RedisSnapshotStore
    from playbooks.runner import RunContext

    services = handoff.services
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0))
    ctx = RunContext(http=http, snapshots=RedisSnapshotStore(handoff.redis), env=dict(os.environ))
    service = PlaybookService(
        load_all_playbooks(handoff.config),
        ctx,
        handoff.redis,
        services.store,
        services.evidence,
        services.gateway,
        run_on_open=handoff.config.playbooks.run_on_open,
    )
    services.extras["playbooks"] = service
    services.incidents.on_opened.append(service.on_opened)
    services.incidents.messages.playbook_names = service.names_by_side()
    services.extras["stoppers"].append(http.aclose)


def wire_optional(handoff: Handoff) -> None:
    """Attach alert webhooks, playbooks and reminders; each adds routes, starters or services to extras."""
    extras = handoff.services.extras
    extras.setdefault("routes", [])
    extras.setdefault("starters", [])
    extras.setdefault("stoppers", [])
    attach_alerts(handoff)
    attach_playbooks(handoff)
    from bot.scheduling.wiring import attach_reminders

    attach_reminders(handoff)


def validate_optional(config: HandoffConfig) -> None:
    """Fail at start-up on a bad playbook (YamlFileError naming file, line and field)."""
    load_all_playbooks(config)


def describe_optional(config: HandoffConfig) -> list[tuple[str, str]]:
    playbooks = load_all_playbooks(config)
    rows = []
    for side in ("mlops", "dataops"):
        names = sorted(p.name for p in playbooks if p.side.value == side)
        rows.append((f"{side} playbooks", ", ".join(names) or "none"))
    return rows
