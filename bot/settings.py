"""Typed process settings from the environment (tokens as SecretStr, never printed)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
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

    @property
    def api_url(self) -> str:
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"


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
