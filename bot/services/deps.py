"""The services a listener may call, bundled for the Slack and HTTP surfaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.config import HandoffConfig
from bot.services.clock import Clock
from bot.services.directory import ResponderDirectory
from bot.services.evidence import EvidenceService
from bot.services.incidents import IncidentService
from bot.slack.gateway import SlackGateway
from bot.store.base import IncidentStore


@dataclass
class Services:
    config: HandoffConfig
    store: IncidentStore
    gateway: SlackGateway
    directory: ResponderDirectory
    incidents: IncidentService
    evidence: EvidenceService
    clock: Clock
    bot_user_id: str
    extras: dict[str, Any] = field(default_factory=dict)  # optional services (playbooks, alerts, reminders)
