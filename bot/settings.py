"""Typed process settings from the environment (tokens as SecretStr, never printed)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_PUBLIC_API = "https://slack.com/api/"


class Settings(BaseSettings):
    """What the process needs from its environment; the YAML config holds the rest."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    slack_bot_token: SecretStr = Field(description="Bot token (xoxb-...)")
    slack_signing_secret: SecretStr = Field(description="Signing secret of the Slack app")
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-level token (xapp-...) for Socket Mode"
    )
    slack_api_url: AnyHttpUrl = Field(default=AnyHttpUrl(SLACK_PUBLIC_API))
    redis_url: str = Field(default="redis://127.0.0.1:6379/0")
    # Sentinel-managed Redis (docs/operations.md, "High availability"): both set, or neither (REDIS_URL then).
    redis_sentinels: str | None = Field(default=None, description="host:port,host:port,... of the Sentinels")
    redis_sentinel_master: str | None = Field(
        default=None, validate_default=True, description="The service name the Sentinels monitor"
    )
    redis_sentinel_password: SecretStr | None = Field(
        default=None, description="requirepass of the Sentinels"
    )
    redis_password: SecretStr | None = Field(default=None, description="Password of Redis (both modes)")
    redis_ssl: bool = Field(default=False, description="TLS to the Sentinels and the master (Sentinel mode)")
    redis_ssl_ca_certs: Path | None = Field(
        default=None, description="CA bundle that signed Redis's certificate"
    )
    redis_wait_replicas: int = Field(default=0, ge=0, le=16, description="WAIT for this many replicas")
    redis_wait_timeout_ms: int = Field(default=1000, ge=1, le=60_000, description="How long WAIT may take")
    redis_retry_seconds: float = Field(
        default=15.0, gt=0, le=300, description="How long a command waits for a new master (Sentinel mode)"
    )
    handoff_config: Path | None = Field(default=None, description="Path of the YAML config")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, v: SecretStr) -> SecretStr:
        if not v.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str) -> str:
        if not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return v

    @field_validator("redis_sentinels", "redis_sentinel_master", mode="before")
    @classmethod
    def _blank_is_unset(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinel_list(cls, v: str | None) -> str | None:
        if v is None:
            return None
        return ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in parse_nodes(v))

    @field_validator("redis_sentinel_master")
    @classmethod
    def _master_with_sentinels(cls, v: str | None, info: ValidationInfo) -> str | None:
        if "redis_sentinels" not in info.data:
            return v  # REDIS_SENTINELS itself was invalid: that is the line to read
        sentinels = info.data["redis_sentinels"]
        if sentinels and v is None:
            raise ValueError(
                "is required with REDIS_SENTINELS: the name in the Sentinels' `sentinel monitor` line"
            )
        if v is not None and not sentinels:
            raise ValueError("is set but REDIS_SENTINELS is not (host:port,host:port,... of the Sentinels)")
        if v is not None and not v.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError("must be a plain name (letters, digits, '-', '_', '.')")
        return v.strip() if v else v

    @field_validator("redis_sentinel_password")
    @classmethod
    def _sentinel_password_needs_sentinels(
        cls, v: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if v is not None and info.data.get("redis_sentinels") is None and "redis_sentinels" in info.data:
            raise ValueError("is only used with REDIS_SENTINELS")
        return v

    @field_validator("redis_ssl")
    @classmethod
    def _ssl_by_scheme_without_sentinels(cls, v: bool, info: ValidationInfo) -> bool:
        plain = "redis_sentinels" in info.data and info.data["redis_sentinels"] is None
        if v and plain and str(info.data.get("redis_url", "")).startswith("redis://"):
            raise ValueError(
                "is for Sentinel mode; with REDIS_URL, TLS is chosen by the scheme: write rediss://"
            )
        return v

    @field_validator("redis_ssl_ca_certs")
    @classmethod
    def _ca_file_with_tls(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        if v is None:
            return v
        if not v.is_file():
            raise ValueError(f"no such file: {v}")
        if not (info.data.get("redis_ssl") or str(info.data.get("redis_url", "")).startswith("rediss://")):
            raise ValueError("is only used with TLS: REDIS_SSL=true (Sentinel mode) or a rediss:// REDIS_URL")
        return v

    @property
    def sentinel_nodes(self) -> list[tuple[str, int]]:
        """The Sentinels as (host, port); empty without REDIS_SENTINELS (REDIS_URL is used then)."""
        return parse_nodes(self.redis_sentinels) if self.redis_sentinels else []

    @property
    def api_url(self) -> str:
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"


def parse_nodes(text: str) -> list[tuple[str, int]]:
    """`host:port,host:port,...` (an IPv6 host in brackets: `[::1]:26379`); ValueError naming a bad entry."""
    nodes: list[tuple[str, int]] = []
    for index, raw in enumerate(text.split(","), start=1):
        entry = raw.strip()
        host, sep, port = entry.rpartition(":")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not entry or not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"entry {index} is not host:port (e.g. 10.0.0.5:26379)")
        nodes.append((host, int(port)))
    if len(set(nodes)) != len(nodes):
        raise ValueError("names a Sentinel twice")
    return nodes


class SettingsError(Exception):
    """Missing or invalid settings; one line per problem, naming the variable, never its value."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False, include_input=False):
            var = str(err["loc"][0]).upper() if err["loc"] else "?"
            msg = "is required but not set" if err["type"] == "missing" else err["msg"]
            lines.append(f"{var}: {msg}")
        raise SettingsError(lines) from None
