"""What a person submitted in a form, as domain values: the parser produces them, the services take them."""

from __future__ import annotations

from pydantic import BaseModel

from bot.domain.models import Asset, EvidenceStatus, VerdictKind


class EvidenceSubmission(BaseModel):
    """One checklist item as a person set it: its status, what they found, and a link to the proof."""

    status: EvidenceStatus
    detail: str
    link: str | None


class VerdictSubmission(BaseModel):
    """A side's verdict as a person gave it; the asset and the prevention owner go with "our asset failed"."""

    kind: VerdictKind
    asset: Asset | None
    prevention_owner: str | None
    note: str
