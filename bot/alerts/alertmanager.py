"""Prometheus Alertmanager webhook (version 4): one AlertDraft per element of `alerts[]`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.draft import AlertDraft, as_text, extras_as_text, real_time
from bot.alerts.kinds import SourceKind
from bot.domain.alerts import AlertStatus


class AlertmanagerAlert(BaseModel):
    """One element of `alerts[]`; unknown fields are kept (see `details_of`)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: AlertStatus
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = Field(default=None, alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = Field(min_length=1, max_length=300)


class AlertmanagerWebhook(BaseModel):
    """The webhook body; `commonLabels`/`commonAnnotations` are derived from the alerts and not kept twice."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: str = "4"
    status: AlertStatus | None = None
    receiver: str = ""
    group_key: str | None = Field(default=None, alias="groupKey")
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")
    alerts: list[AlertmanagerAlert]


def summary_of(alert: AlertmanagerAlert) -> str:
    ann = alert.annotations
    return ann.get("summary") or ann.get("description") or alert.labels.get("alertname") or alert.fingerprint


def details_of(webhook: AlertmanagerWebhook, alert: AlertmanagerAlert) -> dict[str, str]:
    """Receiver, URLs and every undeclared field of the body and of the alert, as text."""
    details = {
        "receiver": webhook.receiver,
        "external_url": webhook.external_url,
        "generator_url": alert.generator_url,
    }
    if webhook.group_labels:
        details["group_labels"] = as_text(webhook.group_labels)
    if webhook.truncated_alerts:
        details["truncated_alerts"] = str(webhook.truncated_alerts)
    if alert.status is AlertStatus.FIRING and (expires := real_time(alert.ends_at)) is not None:
        details["expires_at"] = expires.isoformat()
    details |= extras_as_text(webhook.model_extra, prefix="webhook.")
    details |= extras_as_text(alert.model_extra)
    return {k: v for k, v in details.items() if v}


def draft_of(webhook: AlertmanagerWebhook, alert: AlertmanagerAlert, source: SourceKind) -> AlertDraft:
    ends_at = real_time(alert.ends_at)
    return AlertDraft(
        source=source,
        dedup_key=alert.fingerprint,
        status=alert.status,
        summary=summary_of(alert),
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        details=details_of(webhook, alert),
        starts_at=real_time(alert.starts_at),
        # A firing alert's endsAt is an expiry, not an end: only a resolved alert has ended.
        ends_at=ends_at if alert.status is AlertStatus.RESOLVED else None,
        url=alert.generator_url or None,
        group_key=webhook.group_key,
    )


def drafts(data: object) -> list[AlertDraft]:
    """Validate an Alertmanager webhook body (pydantic.ValidationError if it does not fit) and read it."""
    webhook = AlertmanagerWebhook.model_validate(data)
    return [draft_of(webhook, alert, SourceKind.ALERTMANAGER) for alert in webhook.alerts]
