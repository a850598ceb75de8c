"""Runs the demo: Redis, the Slack stand-in with a demo team, the sample world, the bot, and one incident."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from bot.app import Handoff, build_handoff
from bot.config import HandoffConfig
from bot.demo.scenarios import Scenario
from bot.demo.transcript import Transcript
from bot.demo.world import build_warehouse, world_app
from bot.domain.incident import Incident
from bot.domain.models import IncidentState, Side
from bot.settings import Settings
from slack_sandbox import SlackSandbox
from slack_sandbox.server import AsgiServer

PLAYBOOKS = Path(__file__).parent / "playbooks"
ALERT_TOKEN = "demo-alertmanager-token"
DEMO_DB = 13  # the demo's own Redis database, flushed at start, so it never mixes with real incidents


@dataclass
class DemoTeam:
    ml: list[str]
    data: list[str]
    ml_lead: str
    data_lead: str

    def responder(self, side: Side) -> str:
        return self.ml[0] if side is Side.MLOPS else self.data[0]


def seed_team(sb: SlackSandbox) -> DemoTeam:
    """MLOps and DataOps responders (one listed, one through a user group) and a lead on each side."""
    maya, milo = sb.add_user("maya", real_name="Maya (MLOps)"), sb.add_user("milo", real_name="Milo (MLOps)")
    dana, dev = sb.add_user("dana", real_name="Dana (DataOps)"), sb.add_user("dev", real_name="Dev (DataOps)")
    mona, dirk = (
        sb.add_user("mona", real_name="Mona (MLOps lead)"),
        sb.add_user("dirk", real_name="Dirk (DataOps lead)"),
    )
    sb.add_usergroup("mlops-oncall", [milo])
    sb.add_usergroup("dataops-oncall", [dev])
    sb.add_channel("general", members=[maya, milo, dana, dev, mona, dirk], is_general=True)
    return DemoTeam(ml=[maya.id, milo.id], data=[dana.id, dev.id], ml_lead=mona.id, data_lead=dirk.id)


def demo_config(sb: SlackSandbox, team: DemoTeam) -> HandoffConfig:
    groups = {g.handle: g.id for g in sb.usergroups()}
    triage = sb.add_channel("ml-triage", members=[team.ml_lead, team.data_lead, sb.bot_user_id]).id
    return HandoffConfig.model_validate(
        {
            "sides": {
                "mlops": {
                    "users": [team.ml[0]],
                    "usergroups": [groups["mlops-oncall"]],
                    "leads": [team.ml_lead],
                },
                "dataops": {
                    "users": [team.data[0]],
                    "usergroups": [groups["dataops-oncall"]],
                    "leads": [team.data_lead],
                },
            },
            "triage_channel": triage,
            "alerts": {
                "announce_after": "1s",
                "sources": {
                    "alertmanager": {"kind": "alertmanager", "auth": "bearer", "secret": ALERT_TOKEN}
                },
            },
            "playbooks": {"folders": [str(PLAYBOOKS)], "builtin": True},
        }
    )


@contextlib.asynccontextmanager
async def demo_redis(url: str) -> AsyncIterator[str]:
    """Redis at `url` (its database 13, flushed) if one answers, else a redis-server of our own."""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    client = aioredis.Redis.from_url(f"{base}/{DEMO_DB}")
    try:
        await asyncio.wait_for(client.ping(), 1)
        await client.flushdb()
        await client.aclose()
        yield f"{base}/{DEMO_DB}"
        return
    except Exception:
        await client.aclose()
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "No Redis answers at REDIS_URL and redis-server is not installed (apt-get install redis-server)"
        )
    folder = tempfile.mkdtemp(prefix="handoff-demo-redis-")
    sock = Path(folder) / "redis.sock"
    proc = await asyncio.create_subprocess_exec(
        binary,
        "--port",
        "0",
        "--unixsocket",
        str(sock),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        folder,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if sock.exists():
                break
            await asyncio.sleep(0.05)
        yield f"unix://{sock}"
    finally:
        proc.terminate()
        await proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def alert_payload(scenario: Scenario, now: datetime) -> dict[str, Any]:
    labels = {"alertname": scenario.alertname, **scenario.labels}
    fingerprint = secrets.token_hex(8)
    return {
        "receiver": "handoff",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": scenario.summary,
                    "runbook_url": "https://runbooks.example.com/drift",
                },
                "startsAt": now.isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.com/graph",
                "fingerprint": fingerprint,
            }
        ],
        "groupLabels": {"alertname": scenario.alertname},
        "commonLabels": labels,
        "commonAnnotations": {"summary": scenario.summary},
        "externalURL": "http://alertmanager.example.com",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{scenario.alertname}"}}',
        "truncatedAlerts": 0,
    }


def _restore_env(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class Demo:
    """One demo run; `run()` returns the process exit code."""

    def __init__(
        self, scenario: Scenario, interactive: bool, redis_url: str, port: int, transcript: Transcript
    ) -> None:
        self.scenario = scenario
        self.interactive = interactive
        self.redis_url = redis_url
        self.port = port
        self.out = transcript
        self.names: dict[str, str] = {}

    async def run(self) -> int:
        out = self.out
        out.console.rule(f"Handoff demo: {self.scenario.name}")
        out.note(self.scenario.story)
        async with contextlib.AsyncExitStack() as stack:
            redis_url = await stack.enter_async_context(demo_redis(self.redis_url))
            out.step(f"Redis ready ({redis_url})")
            sb = SlackSandbox(port=self.port)
            if self.interactive:
                sb.configure(web_actions=True)
            team = seed_team(sb)
            await sb.start()
            stack.push_async_callback(sb.stop)
            self.names = {u.id: u.name for u in sb.users()}
            out.step(f"Slack stand-in ready; watch it live at {sb.base_url}/_sandbox/ui")
            folder = Path(tempfile.mkdtemp(prefix="handoff-demo-"))
            stack.callback(shutil.rmtree, folder, True)
            now = datetime.now(UTC)
            build_warehouse(folder / "warehouse.duckdb", self.scenario.world, now)
            world = await AsgiServer(world_app(self.scenario.world, now)).start()
            stack.push_async_callback(world.stop)
            saved = {
                k: os.environ.get(k)
                for k in ("WAREHOUSE_URL", "KSERVE_URL", "MLFLOW_TRACKING_URI", "DBT_ARTIFACTS")
            }
            stack.callback(_restore_env, saved)
            os.environ.update(
                {
                    "WAREHOUSE_URL": f"duckdb:///{folder / 'warehouse.duckdb'}",
                    "KSERVE_URL": world.base_url,
                    "MLFLOW_TRACKING_URI": world.base_url,
                    "DBT_ARTIFACTS": f"{world.base_url}/dbt",
                }
            )
            out.step("Sample world ready: DuckDB warehouse, KServe V2 endpoint, registry, dbt artifacts")
            handoff = await self._start_bot(sb, team, redis_url, stack)
            out.step("Bot serving over HTTP against the stand-in")
            incident = await self._fire_alert(sb, handoff)
            return await self._respond(sb, handoff, team, incident)
        return 1

    async def _start_bot(
        self, sb: SlackSandbox, team: DemoTeam, redis_url: str, stack: contextlib.AsyncExitStack
    ) -> Handoff:
        settings = Settings(
            slack_bot_token=sb.bot_token,
            slack_signing_secret=sb.signing_secret,
            slack_api_url=sb.api_url,
            redis_url=redis_url,
        )
        handoff = await build_handoff(settings, demo_config(sb, team))
        assert handoff.asgi is not None
        server = await AsgiServer(handoff.asgi).start()
        stack.push_async_callback(handoff.stop, 5.0)
        stack.push_async_callback(server.stop)
        await handoff.start()
        sb.request_url = f"{server.base_url}/slack/events"
        self.bot_url = server.base_url
        return handoff

    async def _watch(self, sb: SlackSandbox, channel_id: str) -> None:
        name = sb.channel(channel_id).name
        while True:
            for message in sb.messages(channel_id):
                self.out.show(name, message, self.names)
            await asyncio.sleep(0.2)

    async def _fire_alert(self, sb: SlackSandbox, handoff: Handoff) -> Incident:
        payload = alert_payload(self.scenario, datetime.now(UTC))
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{self.bot_url}/alerts/alertmanager",
                json=payload,
                headers={"Authorization": f"Bearer {ALERT_TOKEN}"},
            )
        answer.raise_for_status()
        self.out.step(f"Alertmanager alert {self.scenario.alertname} accepted ({answer.status_code})")
        store = handoff.services.store
        incident = await self._until(lambda: self._opened(store))
        self.out.step(f"{incident.id} opened in #{incident.channel_name}, both sides invited, card pinned")
        self._watcher = asyncio.create_task(self._watch(sb, incident.channel_id or ""))
        alerts, playbooks = handoff.services.extras["alerts"], handoff.services.extras["playbooks"]
        await alerts.settle()
        await asyncio.sleep(0.2)
        await playbooks.settle()
        incident = await store.get(incident.id)
        filled = [i for i in incident.evidence.values() if i.source and i.source.kind == "playbook"]
        self.out.step(f"Playbooks filled {len(filled)} checklist item(s)")
        proposal = incident.proposal()
        self.out.note(
            f"[bold]Proposal:[/] {proposal.owner.label}"
            + (f" (primary {proposal.primary.label})" if proposal.primary else "")
            + f" — {proposal.summary}"
        )
        return incident

    async def _opened(self, store: Any) -> Incident | None:
        for incident in await store.list_active():
            if incident.opening.done:
                return incident  # type: ignore[no-any-return]
        return None

    async def _until(self, check: Any, timeout: float = 60.0) -> Any:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.1)
        raise TimeoutError("the demo did not reach the next step in time")

    async def _respond(self, sb: SlackSandbox, handoff: Handoff, team: DemoTeam, incident: Incident) -> int:
        store = handoff.services.store
        if self.interactive:
            self.out.note(
                f"[bold]Interactive:[/] open {sb.base_url} and click as the responders; Ctrl-C to stop."
            )
            decided = await self._until(lambda: self._decided(store, incident.id), timeout=24 * 3600)
            return self._finish(decided)
        for round_ in self.scenario.rounds:
            for verdict in round_:
                user = team.responder(verdict.side)
                await sb.click(user, f"Confirm for {verdict.side.label}", channel=incident.channel_id)
                await self._until(lambda u=user: self._has_view(sb, u))
                values: dict[str, Any] = {f"{verdict.side.label} verdict": verdict.say}
                if verdict.asset:
                    values["Failed asset: kind (if your asset failed)"] = verdict.asset[0]
                    values["Failed asset: name (if your asset failed)"] = verdict.asset[1]
                    values["Who owns the prevention work (if your asset failed)"] = user
                await sb.submit_view(user, values=values)
                self.out.step(f"@{self.names[user]} confirmed for {verdict.side.label}: {verdict.say}")
                await asyncio.sleep(0.3)
            state = await store.get(incident.id)
            if state.state is not IncidentState.DECIDED:
                await asyncio.sleep(0.5)
        decided = await self._until(lambda: self._decided(store, incident.id))
        return self._finish(decided)

    async def _has_view(self, sb: SlackSandbox, user: str) -> bool:
        return bool(sb.open_views(user))

    async def _decided(self, store: Any, incident_id: str) -> Incident | None:
        incident = await store.get(incident_id)
        return incident if incident.decision_ts else None

    def _finish(self, incident: Incident) -> int:
        decision = incident.decision
        assert decision is not None
        took = (incident.decided_at - incident.created_at).total_seconds() if incident.decided_at else 0.0
        self.out.step(
            f"Ownership decision posted: {decision.owner.label}, failed asset {decision.failed_asset}"
        )
        ok = decision.owner is self.scenario.owner and (
            self.scenario.primary is None or decision.primary is self.scenario.primary
        )
        verdict = (
            "[green]as the domain rules give[/]" if ok else f"[red]expected {self.scenario.owner.label}[/]"
        )
        self.out.note(f"Decided in {took:.1f} s from opening, {verdict}.")
        return 0 if ok else 1
