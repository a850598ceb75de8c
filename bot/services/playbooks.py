"""Running playbooks for an incident: on open and by hand, with a live progress message, into the checklist."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta

import structlog
from slack_sdk.models.blocks import Block

from bot.domain.errors import DomainError, InvalidInput
from bot.domain.incident import Incident
from bot.domain.models import Side
from bot.domain.permissions import Action
from bot.services.evidence import EvidenceService
from bot.slack import blocks
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.store.base import IncidentStore, RunQueue, RunRequest
from bot.tasks import BackgroundTasks
from playbooks.bindings import IncidentScope
from playbooks.errors import PlaybookError
from playbooks.results import PlaybookRun
from playbooks.runner import RunContext, run_playbook
from playbooks.schema import Playbook

log = structlog.get_logger(__name__)

ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
RUN_TTL = timedelta(days=30)
RESUMED = "Resumed by another worker after a worker stopped."


def env_refs(playbook: Playbook) -> set[str]:
    return set(ENV_REF.findall(playbook.model_dump_json()))


class PlaybookService:
    def __init__(
        self,
        playbooks: Sequence[Playbook],
        ctx: RunContext,
        store: IncidentStore,
        evidence: EvidenceService,
        gateway: SlackGateway,
        run_on_open: bool = True,
        queue: RunQueue | None = None,
    ) -> None:
        self.playbooks = list(playbooks)
        self.ctx = ctx
        self.store = store
        self.evidence = evidence
        self.gateway = gateway
        self.run_on_open = run_on_open
        self.queue = queue  # set: runs are queued for `handoff worker` processes instead of run here
        self._tasks = BackgroundTasks("playbooks")

    def runnable(self, env: Mapping[str, str] | None = None) -> list[Playbook]:
        """Playbooks whose `${NAME}` references are all set: the others would only fail.

        With workers, every playbook: the credentials are the workers' (a worker skips what it cannot run).
        """
        if self.queue is not None and env is None:
            return list(self.playbooks)
        env = self.ctx.env if env is None else env
        return [p for p in self.playbooks if env_refs(p) <= set(env)]

    def names_by_side(self) -> dict[Side, list[str]]:
        names: dict[Side, list[str]] = {side: [] for side in Side}
        for playbook in self.runnable():
            names[playbook.side].append(playbook.name)
        return names

    async def on_opened(self, incident: Incident) -> None:
        """Start the playbooks whose triggers match the new incident, in the background."""
        if not self.run_on_open:
            return
        from playbooks.loader import matching

        for playbook in matching(self.runnable(), incident.assets, incident.labels, incident.severity):
            token = f"playbook-on-open:{incident.id}:{playbook.name}"
            if await self.store.claim_once(token, RUN_TTL):
                await self._start(incident.id, playbook, None)

    async def run_by_name(self, incident_id: str, name: str, user_id: str) -> None:
        playbook = next((p for p in self.playbooks if p.name == name), None)
        if playbook is None:
            known = ", ".join(sorted(p.name for p in self.runnable())) or "none"
            raise InvalidInput(f"There is no playbook `{name}`. Playbooks that can run here: {known}.")
        incident = await self.store.get(incident_id)
        await self.evidence.directory.require(Action.RUN_PLAYBOOK, user_id, incident, playbook.side)
        missing = env_refs(playbook) - set(self.ctx.env)
        if missing and self.queue is None:
            raise InvalidInput(
                f"Playbook `{name}` cannot run: the bot's environment lacks {', '.join(sorted(missing))}."
            )
        if not incident.awaiting_decision:
            raise InvalidInput(f"{incident.id} is {incident.state.value}; reopen it to gather more evidence.")
        await self._start(incident_id, playbook, user_id)

    async def _start(self, incident_id: str, playbook: Playbook, user_id: str | None) -> None:
        if self.queue is None:
            self._tasks.spawn(self._run_logged(incident_id, playbook, user_id))
            return
        request = RunRequest(uuid.uuid4().hex, incident_id, playbook.name, user_id)
        await self.queue.enqueue(request)
        log.info(
            "playbooks.run_queued", incident_id=incident_id, playbook=playbook.name, run_id=request.run_id
        )

    async def settle(self) -> None:
        """Wait for the runs started so far."""
        await self._tasks.drain()

    async def _run_logged(self, incident_id: str, playbook: Playbook, user_id: str | None) -> None:
        try:
            await self.run(incident_id, playbook, user_id)
        except Exception:
            log.exception("playbooks.run_failed", incident_id=incident_id, playbook=playbook.name)

    async def run(
        self,
        incident_id: str,
        playbook: Playbook,
        user_id: str | None,
        *,
        run_id: str | None = None,
        message_ts: str | None = None,
        on_posted: Callable[[str], Awaitable[None]] | None = None,
        resumed: bool = False,
    ) -> PlaybookRun:
        """Run one playbook: progress message updated per step, run persisted, findings into the checklist.

        A worker passes the queued request's `run_id`, the progress message an earlier holder posted
        (`message_ts`, updated instead of posting another), `on_posted` to keep a new one, and `resumed`.
        Each finding of a run is recorded once, even when two workers finish the same run.
        """
        incident = await self.store.get(incident_id)
        channel = incident.channel_id
        ts: str | None = message_ts
        state: dict[str, tuple[str, ...]] = {}

        def render(run: PlaybookRun) -> list[Block]:
            wall = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
            steps = [(s.id, s.kind, s.state.value, s.detail or (s.error or ""), s.elapsed) for s in run.steps]
            shown = blocks.playbook_progress(
                playbook.name, playbook.side, incident_id, user_id, steps, run.done, wall
            )
            return [*shown, blocks.playbook_note(RESUMED)] if resumed else shown

        async def progress(run: PlaybookRun) -> None:
            nonlocal ts
            snapshot = tuple(s.state.value for s in run.steps)
            if channel is None or state.get("last") == snapshot:
                return
            state["last"] = snapshot
            text = blocks.playbook_text(playbook.name, incident_id)
            try:
                if ts is None:
                    ts = await self.gateway.post(channel, text, render(run))
                    if on_posted is not None:
                        await on_posted(ts)
                else:
                    await self.gateway.update(channel, ts, text, render(run))
            except SlackCallFailed:
                log.exception("playbooks.progress_failed", incident_id=incident_id)

        scope = IncidentScope(assets=tuple(incident.assets), labels=incident.labels, incident_id=incident_id)
        try:
            run = await run_playbook(playbook, {}, self.ctx, progress, scope=scope, run_id=run_id)
        except PlaybookError as exc:
            raise InvalidInput(f"Playbook `{playbook.name}` cannot run: {exc}") from None
        await progress(run)
        await self.store.save_run(run, RUN_TTL)
        for finding in run.item_findings():
            if finding.item_ref not in incident.evidence:
                continue
            token = f"playbook-finding:{run.run_id}:{finding.item_ref}"
            if run_id is not None and not await self.store.claim_once(token, RUN_TTL):
                continue  # a queued run: recorded already by another worker that finished it too
            try:
                await self.evidence.record(
                    incident_id,
                    finding.item_ref,
                    finding.status,
                    finding.detail,
                    run.evidence_source(finding.step),
                    link=finding.link,
                    asset=finding.asset,
                )
            except DomainError as exc:
                log.info("playbooks.finding_not_recorded", incident_id=incident_id, reason=str(exc))
        log.info("playbooks.run_done", incident_id=incident_id, playbook=playbook.name, run_id=run.run_id)
        return run
