"""Configuration of the alert intake: one AlertSourceConfig per named source, and the `alerts` section."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from bot.alerts.kinds import SourceKind
from bot.alerts.routing import RoutingRules
from bot.domain.models import Severity

GRAFANA_SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
GRAFANA_TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp"
HANDOFF_SIGNATURE_HEADER = "X-Handoff-Signature"
HANDOFF_TIMESTAMP_HEADER = "X-Handoff-Timestamp"

MAX_BODY_BYTES = 1024 * 1024


class AlertSourceConfig(BaseModel):
    """How one named source (`POST /alerts/{name}`) authenticates and what its alerts default to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SourceKind
    auth: Literal["bearer", "hmac"] = "bearer"
    # None or empty: the source refuses every request (never open by default).
    secret: SecretStr | None = None
    enabled: bool = True
    default_severity: Severity = Severity.SEV3  # when the alert names none; a failed GE/Soda check
    warn_severity: Severity = Severity.SEV4  # a warned GE/Soda check (GE: expectation severity warning/info)
    labels: dict[str, str] = Field(default_factory=dict)  # added to every alert; the alert's own labels win
    # hmac only; None means the default for the kind (Grafana's headers for grafana, X-Handoff-* otherwise).
    signature_header: str | None = None
    timestamp_header: str | None = None
    require_timestamp: bool = False  # refuse signatures without a timestamp (replay protection)
    max_timestamp_skew_s: int = Field(default=300, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _default_headers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            grafana = data.get("kind") in (SourceKind.GRAFANA, SourceKind.GRAFANA.value)
            data = dict(data)
            if data.get("signature_header") is None:
                data["signature_header"] = GRAFANA_SIGNATURE_HEADER if grafana else HANDOFF_SIGNATURE_HEADER
            if data.get("timestamp_header") is None:
                data["timestamp_header"] = GRAFANA_TIMESTAMP_HEADER if grafana else HANDOFF_TIMESTAMP_HEADER
        return data

    @property
    def has_secret(self) -> bool:
        return self.secret is not None and self.secret.get_secret_value() != ""


class AlertIntakeConfig(BaseModel):
    """The intake's part of the `alerts:` section: sources, routing rules and the body limit."""

    model_config = ConfigDict(extra="forbid")

    sources: dict[str, AlertSourceConfig] = Field(default_factory=dict)
    routing: RoutingRules = Field(default_factory=RoutingRules)
    max_body_bytes: int = Field(default=MAX_BODY_BYTES, gt=0)
