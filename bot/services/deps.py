"""The services a listener may call: use cases, answers to people and the tracked post-ack work; no storage."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import HandoffConfig
from bot.services.evidence import EvidenceService
from bot.services.incidents import IncidentService
from bot.services.playbooks import PlaybookService
from bot.services.reminders import ReminderService
from bot.services.replies import Replies
from bot.tasks import BackgroundTasks


@dataclass(frozen=True)
class Services:
    """Built once by the composition root (bot/app.py); listeners receive this and nothing else."""

    config: HandoffConfig
    incidents: IncidentService
    evidence: EvidenceService
    playbooks: PlaybookService
    reminders: ReminderService
    replies: Replies
    tasks: BackgroundTasks  # work started after an ack, drained on shutdown
