"""What a step executor is given for one attempt: the shared clients, the store, and the time it runs at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import httpx

from playbooks.redaction import Redactor
from playbooks.snapshots import SnapshotStore


@dataclass(frozen=True)
class StepContext:
    http: httpx.AsyncClient
    snapshots: SnapshotStore  # what the step stores there is scrubbed by `redactor` on the way in
    now: datetime  # aware; the clock's reading when the attempt started
    timeout: float  # seconds the attempt may take: SQL statement and HTTP request timeouts derive from it
    playbook: str
    step_id: str
    # The run's secrets and the step's credentials: for the excerpts of answers, redacted before they are cut.
    redactor: Redactor = field(default_factory=Redactor)
