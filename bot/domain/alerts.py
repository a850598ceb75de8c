"""The normalised Alert (what every alert source is turned into) and what it does to the incident it meets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.incident import Incident
from bot.domain.models import Asset, Severity, Side


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(BaseModel):
    """One alert from any source, normalised; nothing the source carried is dropped.

    The source's own labels and annotations are kept as they came; fields of a source that are neither
    (generator and dashboard URLs, values, check diagnostics) are kept as text in `details`.
    """

    model_config = ConfigDict(frozen=True)

    source: str  # the source kind: alertmanager, grafana, great_expectations, soda, generic
    dedup_key: str = Field(min_length=1, max_length=300)
    status: AlertStatus
    severity: Severity
    summary: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    assets: tuple[Asset, ...] = ()
    side_hint: Side | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    url: str | None = None
    group_key: str | None = None
    details: dict[str, str] = Field(default_factory=dict)  # source-specific extras, as text
    source_name: str | None = None  # the configured source it arrived through (the `{source}` of the URL)
    received_at: datetime | None = None  # when the intake accepted it


MAX_ALERT_NOTES = 200  # notes kept for the next announcement; older ones are on the timeline only


def alert_note(alert: Alert) -> str:
    """The line an alert adds to the incident's next announcement (and to its timeline)."""
    state = "Resolved" if alert.status is AlertStatus.RESOLVED else "Firing"
    return f"{state}: {alert.summary or alert.dedup_key} ({alert.source})"


def attach_alert(incident: Incident, alert: Alert, now: datetime) -> Incident:
    """The alert joins the incident: its key is known, firing or not, its assets added, its note pending."""
    keys = (
        incident.alert_keys
        if alert.dedup_key in incident.alert_keys
        else [*incident.alert_keys, alert.dedup_key]
    )
    firing = [k for k in incident.alerts_firing if k != alert.dedup_key]
    if alert.status is not AlertStatus.RESOLVED:
        firing.append(alert.dedup_key)
    assets = [*incident.assets, *(a for a in alert.assets if a not in incident.assets)]
    return incident.model_copy(
        update={
            "alert_keys": keys,
            "alerts_firing": firing,
            "assets": assets,
            "alert_notes": [*incident.alert_notes, alert_note(alert)][-MAX_ALERT_NOTES:],
            "updated_at": now,
        }
    )


def take_alert_notes(incident: Incident) -> tuple[Incident, list[str]]:
    """The pending notes, taken off the incident to be announced; none until the channel is fully open.

    Taken earlier, they would be lost (no channel yet) or posted between the card and the checklists. With
    nothing to take, the incident is returned as it was (the same object: nothing to write).
    """
    if not incident.alert_notes or not incident.opening.done or incident.channel_id is None:
        return incident, []
    return incident.model_copy(update={"alert_notes": []}), list(incident.alert_notes)
