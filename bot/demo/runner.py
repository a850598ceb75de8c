"""Runs the demo: Redis, the Slack stand-in with a demo team, the sample world, the bot, and the incidents.

`run_demo` plays the scenarios in turn, each in its own workspace (stand-in) against a fresh Redis database,
and, when asked to, then keeps the stand-ins' pages up. Everything it starts is registered on an exit stack
the moment it exists, so an error, Ctrl-C or SIGTERM stops it and removes the temporary folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.app import Handoff, build_handoff
from bot.demo.errors import DemoError, Stage
from bot.demo.redis_server import DemoRedis, demo_redis
from bot.demo.scenarios import SCENARIOS, Scenario
from bot.demo.team import ALERT_TOKEN, DemoTeam, alert_payload, demo_config, seed_team
from bot.demo.transcript import Transcript
from bot.demo.world import build_warehouse, world_app
from bot.domain.incident import Incident
from bot.domain.models import IncidentState, Side
from bot.settings import Settings
from playbooks.registry import default_registry
from slack_sandbox import SlackSandbox
from slack_sandbox.server import AsgiServer

STEP_TIMEOUT = 60.0  # seconds for each step of a scenario (the whole of one takes a few)


def _restore_env(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@dataclass
class DemoOptions:
    scenarios: Sequence[str] = ("stale-table",)
    interactive: bool = False  # the responders' clicks are left to the person at the page
    port: int = 0  # the (first) stand-in's port; 0: any free port
    redis_url: str | None = None  # a database the user named (flushed); None: a private redis-server


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    code: int  # 0 when the decision is the one the domain rules give
    channel: str  # the incident channel's name
    page: str  # the stand-in's page, opened on the incident channel


def page_url(sb: SlackSandbox, person: str, channel: str) -> str:
    """The stand-in's page as `person`, on `channel` (the page also waits for a channel not made yet)."""
    return f"{sb.base_url}/?{urlencode({'as': person, 'channel': channel})}"


class Demo:
    """One scenario: its stand-in, sample world and bot, one incident from alert to decision."""

    def __init__(
        self,
        scenario: Scenario,
        out: Transcript,
        redis: DemoRedis,
        folder: Path,
        *,
        interactive: bool = False,
        port: int = 0,
    ) -> None:
        self.scenario = scenario
        self.out = out
        self.redis = redis
        self.folder = folder
        self.interactive = interactive
        self.port = port
        self.names: dict[str, str] = {}
        self.bot_url = ""
        self._watcher: asyncio.Task[None] | None = None

    async def run(self, page: contextlib.AsyncExitStack, bot: contextlib.AsyncExitStack) -> Outcome:
        """Play the scenario. The stand-in is stopped with `page`, everything else with `bot`."""
        out = self.out
        sb, team = await self._start_sandbox(page)
        self.names = {u.id: u.name for u in sb.users()}
        out.step(f"Slack stand-in ready; watch it live at {sb.base_url}/")
        with Stage("could not build the sample world"):
            now = datetime.now(UTC)
            build_warehouse(self.folder / "warehouse.duckdb", self.scenario.world, now)
            world = await AsgiServer(world_app(self.scenario.world, now)).start()
        bot.push_async_callback(world.stop)
        saved = {
            k: os.environ.get(k)
            for k in ("WAREHOUSE_URL", "KSERVE_URL", "MLFLOW_TRACKING_URI", "DBT_ARTIFACTS")
        }
        bot.callback(_restore_env, saved)
        os.environ.update(
            {
                "WAREHOUSE_URL": f"duckdb:///{self.folder / 'warehouse.duckdb'}",
                "KSERVE_URL": world.base_url,
                "MLFLOW_TRACKING_URI": world.base_url,
                "DBT_ARTIFACTS": f"{world.base_url}/dbt",
            }
        )
        out.step("Sample world ready: DuckDB warehouse, KServe V2 endpoint, registry, dbt artifacts")
        with Stage("could not start the bot"):
            handoff = await self._start_bot(sb, team, bot)
        out.step("Bot serving over HTTP against the stand-in")
        bot.push_async_callback(self._stop_watching)
        with Stage(f"scenario {self.scenario.name} failed"):
            incident = await self._fire_alert(sb, handoff)
            person = self.names[team.responder(self.scenario.primary or Side.DATAOPS)]
            url = page_url(sb, person, incident.channel_name or "")
            code = await self._respond(sb, handoff, team, incident, url)
        return Outcome(self.scenario, code, incident.channel_name or "", url)

    async def _start_sandbox(self, page: contextlib.AsyncExitStack) -> tuple[SlackSandbox, DemoTeam]:
        todo = (
            "choose another port with --port, or --port 0 for any free one"
            if self.port
            else "rerun with --debug for the traceback"
        )
        with Stage(f"could not start the Slack stand-in{f' on port {self.port}' if self.port else ''}", todo):
            sb = SlackSandbox(port=self.port)
            if self.interactive:
                sb.configure(web_actions=True)
            team = seed_team(sb)
            await sb.start()
        page.push_async_callback(sb.stop)
        return sb, team

    async def _start_bot(self, sb: SlackSandbox, team: DemoTeam, stack: contextlib.AsyncExitStack) -> Handoff:
        settings = Settings(
            slack_bot_token=sb.bot_token,
            slack_signing_secret=sb.signing_secret,
            slack_api_url=sb.api_url,
            redis_url=self.redis.url,
        )
        handoff = await build_handoff(settings, demo_config(sb, team))
        stack.push_async_callback(handoff.stop, 5.0)
        # Every step kind runs in the demo: import them now, not while the serving check is timing its answer.
        await default_registry().load_all()
        assert handoff.asgi is not None
        server = await AsgiServer(handoff.asgi).start()
        stack.push_async_callback(server.stop)
        await handoff.start()
        sb.request_url = f"{server.base_url}/slack/events"
        self.bot_url = server.base_url
        return handoff

    def _show(self, sb: SlackSandbox, channel_id: str) -> None:
        name = sb.channel(channel_id).name
        for message in sb.messages(channel_id):
            self.out.show(name, message, self.names)

    async def _watch(self, sb: SlackSandbox, channel_id: str) -> None:
        while True:
            self._show(sb, channel_id)
            await asyncio.sleep(0.2)

    async def _stop_watching(self) -> None:
        """No more channel output (the page's URL must stay the last line printed)."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _fire_alert(self, sb: SlackSandbox, handoff: Handoff) -> Incident:
        payload = alert_payload(self.scenario, datetime.now(UTC))
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{self.bot_url}/alerts/alertmanager",
                json=payload,
                headers={"Authorization": f"Bearer {ALERT_TOKEN}"},
            )
        if answer.status_code >= 300:
            raise DemoError(
                f"scenario {self.scenario.name}: the bot refused the alert (HTTP {answer.status_code})"
            )
        self.out.step(f"Alertmanager alert {self.scenario.alertname} accepted ({answer.status_code})")
        store = handoff.store
        incident = await self._until("the incident channel to open", lambda: self._opened(store))
        self.out.step(f"{incident.id} opened in #{incident.channel_name}, both sides invited, card pinned")
        self._watcher = asyncio.create_task(self._watch(sb, incident.channel_id or ""))
        await handoff.alerts.settle()
        await asyncio.sleep(0.2)
        await handoff.playbooks.settle()
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

    async def _until(
        self,
        what: str,
        check: Callable[[], Awaitable[Any]],
        timeout: float = STEP_TIMEOUT,  # noqa: ASYNC109
    ) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.1)
        raise DemoError(f"scenario {self.scenario.name}: waited {timeout:.0f} s for {what} in vain")

    async def _respond(
        self, sb: SlackSandbox, handoff: Handoff, team: DemoTeam, incident: Incident, url: str
    ) -> int:
        store = handoff.store
        if self.interactive:
            self.out.line(f"Interactive: open {url} and click as the responders; Ctrl-C to stop.")
            decided = await self._until(
                "the responders' decision", lambda: self._decided(store, incident.id), timeout=24 * 3600
            )
            return await self._finish(sb, decided)
        for round_ in self.scenario.rounds:
            for verdict in round_:
                user = team.responder(verdict.side)
                await sb.click(user, f"Confirm for {verdict.side.label}", channel=incident.channel_id)
                await self._until(
                    f"the {verdict.side.label} confirmation form", functools.partial(self._has_view, sb, user)
                )
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
        decided = await self._until("the ownership decision", lambda: self._decided(store, incident.id))
        return await self._finish(sb, decided)

    async def _has_view(self, sb: SlackSandbox, user: str) -> bool:
        return bool(sb.open_views(user))

    async def _decided(self, store: Any, incident_id: str) -> Incident | None:
        incident = await store.get(incident_id)
        return incident if incident.decision_ts else None

    async def _finish(self, sb: SlackSandbox, incident: Incident) -> int:
        decision = incident.decision
        assert decision is not None
        await asyncio.sleep(0.3)  # the card and checklists are redrawn just after the decision
        await self._stop_watching()
        if incident.channel_id:
            self._show(sb, incident.channel_id)
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


def _temp_folder(names: Sequence[str]) -> Path:
    """The run's one temporary folder: the private Redis's, and each scenario's warehouse."""
    folder = Path(tempfile.mkdtemp(prefix="handoff-demo-"))
    for sub in ("redis", *names):
        (folder / sub).mkdir()
    return folder


async def run_demo(
    options: DemoOptions, out: Transcript, serve: Callable[[], Awaitable[None]] | None = None
) -> int:
    """Play the scenarios; with `serve`, then print the page's URL as the last line and await `serve()`.

    Returns the exit code (0: every decision is the one the domain rules give); raises DemoError.
    """
    names = list(options.scenarios)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        raise DemoError(f"unknown scenario {', '.join(unknown)!r}", f"choose one of {', '.join(SCENARIOS)}")
    async with contextlib.AsyncExitStack() as session:
        folder = _temp_folder(names)
        session.callback(shutil.rmtree, folder, True)
        redis: DemoRedis | None = None
        outcomes: list[Outcome] = []
        for index, name in enumerate(names):
            scenario = SCENARIOS[name]
            out.console.rule(f"Handoff demo: {name}")
            out.note(scenario.story)
            if redis is None:
                redis = await session.enter_async_context(demo_redis(options.redis_url, folder / "redis"))
                out.step(f"Redis ready: {redis.shown}")
            with Stage(f"could not empty the demo's Redis database ({redis.shown})"):
                await redis.reset()
            # In interactive mode the last scenario's bot stays up with its page, to go on clicking.
            keep_bot = serve is not None and options.interactive and index == len(names) - 1
            demo = Demo(
                scenario,
                out,
                redis,
                folder / name,
                interactive=options.interactive,
                port=options.port if index == 0 else 0,
            )
            async with contextlib.AsyncExitStack() as scenario_stack:
                outcomes.append(await demo.run(page=session, bot=session if keep_bot else scenario_stack))
        code = max(o.code for o in outcomes)
        if serve is None:
            return code
        if len(outcomes) > 1:
            out.line("The stand-in's page of each scenario:")
            for o in outcomes[:-1]:
                out.line(f"  {o.scenario.name}: {o.page}")
        last = outcomes[-1]
        out.line(f"Open #{last.channel} in the Slack stand-in (Ctrl-C to stop): {last.page}")
        await serve()
        return code
