"""The YAML configuration: sides and their responders, channels, severities, alerts and playbooks."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.alerts.config import AlertIntakeConfig
from bot.domain.evidence import DEFAULT_CHECKLISTS, ChecklistItemSpec, Checklists
from bot.domain.models import Severity, Side
from bot.domain.permissions import SIDE_ACTIONS, Action, Role, make_table
from bot.yamlfile import Loc, Problem, YamlFileError, parse_yaml, problems_from

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> object:
    """Accept `90s`, `15m`, `2h`, `1d` besides what pydantic takes for a timedelta."""
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
SlackUserId = Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")]
SlackGroupId = Annotated[str, Field(pattern=r"^S[A-Z0-9]{2,}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SideConfig(_Strict):
    """Who answers for a side: users and user groups (members may act for the side), and leads."""

    users: list[SlackUserId] = Field(default_factory=list)
    usergroups: list[SlackGroupId] = Field(default_factory=list)
    leads: list[SlackUserId] = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone(self) -> SideConfig:
        if not (self.users or self.usergroups):
            raise ValueError("a side needs at least one user or user group")
        return self


class ChannelConfig(_Strict):
    template: str = "inc-{yyyymmdd}-{slug}"
    private: bool = False

    @field_validator("template")
    @classmethod
    def _known_fields(cls, v: str) -> str:
        try:
            v.format(yyyymmdd="20260101", date="2026-01-01", slug="x", id="inc-1", severity="sev1")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"unknown placeholder {exc}; use {{yyyymmdd}}, {{date}}, {{slug}}, {{id}}, {{severity}}"
            ) from None
        return v


class SeverityPolicy(_Strict):
    remind_every: Duration
    escalate_after: int = Field(default=3, ge=1, le=50)
    quiet_hours: bool = False


DEFAULT_SEVERITIES: dict[Severity, SeverityPolicy] = {
    Severity.SEV1: SeverityPolicy(remind_every=timedelta(minutes=15), escalate_after=2),
    Severity.SEV2: SeverityPolicy(remind_every=timedelta(minutes=30), escalate_after=3),
    Severity.SEV3: SeverityPolicy(remind_every=timedelta(hours=2), escalate_after=3, quiet_hours=True),
    Severity.SEV4: SeverityPolicy(remind_every=timedelta(days=1), escalate_after=3, quiet_hours=True),
}


class QuietHours(_Strict):
    start: time = time(22, 0)
    end: time = time(8, 0)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v


class RemindersConfig(_Strict):
    sweep_every: Duration = timedelta(minutes=1)
    digest_at: time = time(9, 0)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)


class PlaybookWorkersConfig(_Strict):
    """How `handoff worker` processes take runs (playbooks.execution: workers; docs/operations.md)."""

    concurrency: int = Field(default=4, ge=1, le=256)  # runs in flight at once in one worker process
    per_playbook: int = Field(default=2, ge=1, le=256)  # runs of one playbook at once in one worker process
    steps: int = Field(default=8, ge=1, le=64)  # steps of one run in flight at once
    lease: Duration = timedelta(seconds=30)  # a run its worker stopped renewing this long is taken over
    max_deliveries: int = Field(default=3, ge=1, le=100)  # a run handed out more often is given up


class PlaybooksConfig(_Strict):
    folders: list[Path] = Field(default_factory=list)
    builtin: bool = True
    run_on_open: bool = True
    # inline: the Slack-facing process runs playbooks itself; workers: it queues them for `handoff worker`.
    execution: Literal["inline", "workers"] = "inline"
    workers: PlaybookWorkersConfig = Field(default_factory=PlaybookWorkersConfig)


class AlertsConfig(AlertIntakeConfig):
    """Alert sources (credentials per source), routing rules, and how alerts group into incidents."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group_window: Duration = timedelta(
        minutes=30
    )  # alerts on the same asset within this window share an incident
    announce_after: Duration = timedelta(
        seconds=3
    )  # alert updates within this burst make one channel message
    reclaim_after: Duration = timedelta(
        seconds=30
    )  # an alert left unacked this long (a crashed consumer) is taken over


RoleList = Annotated[list[Role], Field(min_length=1)]
_SIDE_ROLES = {Role.SIDE_RESPONDERS, Role.SIDE_LEADS}


class PermissionsConfig(_Strict):
    """Per action, the roles any one of which allows it; a row given here replaces the default row.

    Roles: mlops.responders, mlops.leads, dataops.responders, dataops.leads, side.responders and side.leads (the
    side the action is for: set_evidence, confirm, run_playbook only), opener, channel_members, anyone.
    """

    set_evidence: RoleList | None = None
    confirm: RoleList | None = None
    run_playbook: RoleList | None = None
    snooze: RoleList | None = None
    close: RoleList | None = None
    reopen: RoleList | None = None
    reopen_decided: RoleList | None = None
    change_severity: RoleList | None = None
    view_private: RoleList | None = None

    @field_validator(*(a.value for a in Action if a not in SIDE_ACTIONS))
    @classmethod
    def _no_side_roles(cls, v: list[Role] | None) -> list[Role] | None:
        if v and _SIDE_ROLES & set(v):
            raise ValueError(
                "side.responders and side.leads apply only to set_evidence, confirm and run_playbook; "
                "name the side (mlops.responders, dataops.leads, ...)"
            )
        return v

    def table(self) -> dict[Action, frozenset[Role]]:
        rows = self.model_dump(exclude_none=True)
        return make_table({Action(name): roles for name, roles in rows.items()})


class HandoffConfig(_Strict):
    """The whole YAML config file."""

    command: str = Field(default="/incident", pattern=r"^/[a-z0-9_-]{1,31}$")
    sides: dict[Side, SideConfig]
    channel: ChannelConfig = Field(default_factory=ChannelConfig)
    triage_channel: str | None = Field(default=None, pattern=r"^[CG][A-Z0-9]{2,}$")
    severities: dict[Severity, SeverityPolicy] = Field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    checklists: dict[Side, list[ChecklistItemSpec]] = Field(default_factory=dict)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    playbooks: PlaybooksConfig = Field(default_factory=PlaybooksConfig)
    permissions: PermissionsConfig = Field(default_factory=PermissionsConfig)

    @model_validator(mode="after")
    def _complete(self) -> HandoffConfig:
        missing = [s.value for s in Side if s not in self.sides]
        if missing:
            raise ValueError(f"sides: both sides must be configured, missing {', '.join(missing)}")
        for sev in Severity:
            self.severities.setdefault(sev, DEFAULT_SEVERITIES[sev])
        for side, items in self.checklists.items():
            keys = [i.key for i in items]
            if len(set(keys)) != len(keys):
                raise ValueError(f"checklists.{side.value}: item keys must be unique")
        return self

    def checklist_templates(self) -> Checklists:
        items = {side: tuple(self.checklists.get(side) or DEFAULT_CHECKLISTS[side]) for side in Side}
        return Checklists(items=items)


_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def _expand_env(data: Any, path: Loc, env: Mapping[str, str], lines: dict[Loc, int], file: str) -> Any:
    """Replace `${NAME}` in strings by the environment's value; a missing variable is a problem."""
    problems: list[Problem] = []

    def walk(value: Any, at: Loc) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, (*at, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*at, i)) for i, v in enumerate(value)]
        if isinstance(value, str):

            def sub(m: re.Match[str]) -> str:
                name = m.group(1)
                if name not in env:
                    problems.append(
                        Problem(
                            file,
                            lines.get(at),
                            ".".join(map(str, at)),
                            f"environment variable {name} is not set",
                        )
                    )
                    return ""
                return env[name]

            return _ENV_REF.sub(sub, value)
        return value

    out = walk(data, path)
    if problems:
        raise YamlFileError(problems)
    return out


def load_config(path: Path, env: Mapping[str, str] | None = None) -> HandoffConfig:
    """Read and validate the config; YamlFileError names the file, line and field of each problem."""
    from pydantic import ValidationError

    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlFileError([Problem(file, None, "", f"cannot read: {exc.strerror}")]) from None
    data, lines = parse_yaml(text, file)
    data = _expand_env(data or {}, (), os.environ if env is None else env, lines, file)
    try:
        config = HandoffConfig.model_validate(data)
    except ValidationError as exc:
        raise YamlFileError(problems_from(exc, file, lines)) from None
    base = path.parent
    folders = [f if f.is_absolute() else base / f for f in config.playbooks.folders]
    return config.model_copy(update={"playbooks": config.playbooks.model_copy(update={"folders": folders})})
