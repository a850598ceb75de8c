"""Grafana unified alerting webhook: Alertmanager-shaped, plus org, title, state, message and panel links."""

from __future__ import annotations

from dataclasses import replace

from pydantic import Field

from bot.alerts.alertmanager import AlertmanagerAlert, AlertmanagerWebhook, details_of, draft_of
from bot.alerts.draft import AlertDraft, as_text
from bot.alerts.kinds import SourceKind


class GrafanaAlert(AlertmanagerAlert):
    silence_url: str = Field(default="", alias="silenceURL")
    dashboard_url: str = Field(default="", alias="dashboardURL")
    panel_url: str = Field(default="", alias="panelURL")
    image_url: str = Field(default="", alias="imageURL")
    values: dict[str, int | float | None] | None = None
    value_string: str = Field(default="", alias="valueString")


class GrafanaWebhook(AlertmanagerWebhook):
    version: str = "1"
    org_id: int | None = Field(default=None, alias="orgId")
    title: str = ""
    state: str = ""  # alerting | ok (of the whole notification)
    message: str = ""
    alerts: list[GrafanaAlert]  # type: ignore[assignment]  # a narrower element type than the base's


def grafana_details(webhook: GrafanaWebhook, alert: GrafanaAlert) -> dict[str, str]:
    details = details_of(webhook, alert) | {
        "org_id": "" if webhook.org_id is None else str(webhook.org_id),
        "title": webhook.title,
        "state": webhook.state,
        "message": as_text(webhook.message),
        "silence_url": alert.silence_url,
        "dashboard_url": alert.dashboard_url,
        "panel_url": alert.panel_url,
        "image_url": alert.image_url,
        "values": "" if alert.values is None else as_text(alert.values),
        "value_string": alert.value_string,
    }
    return {k: v for k, v in details.items() if v}


def drafts(data: object) -> list[AlertDraft]:
    """Validate a Grafana webhook body (pydantic.ValidationError if it does not fit) and read it."""
    webhook = GrafanaWebhook.model_validate(data)
    out = []
    for alert in webhook.alerts:
        draft = draft_of(webhook, alert, SourceKind.GRAFANA)
        url = alert.panel_url or alert.dashboard_url or draft.url
        out.append(replace(draft, details=grafana_details(webhook, alert), url=url or None))
    return out
