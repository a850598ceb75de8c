"""Running a playbook: its steps concurrently under a bound, each with a timeout, retries and backoff."""

from __future__ import annotations

import asyncio
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential

from bot.domain.models import Asset
from bot.logging import register_secrets
from playbooks.bindings import Bindings, IncidentScope
from playbooks.context import StepContext
from playbooks.durations import format_duration
from playbooks.errors import StepError, TransientStepError
from playbooks.redaction import MASK, Redactor, describe_values
from playbooks.registry import Registry, default_registry
from playbooks.results import DETAIL_MAX, Finding, PlaybookRun, StepResult, StepState, clip
from playbooks.schema import Playbook, StepSpec
from playbooks.snapshots import RedactingSnapshotStore, SnapshotStore

ProgressCallback = Callable[[PlaybookRun], Awaitable[None]]
Executor = Callable[[Any, StepContext], Awaitable[Finding]]

log = structlog.get_logger(__name__)

_STATE = {"ok": StepState.OK, "anomalous": StepState.ANOMALOUS, "inconclusive": StepState.INCONCLUSIVE}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """What runs share: one HTTP client, the snapshot store, the clock, the env for `${NAME}`."""

    http: httpx.AsyncClient
    snapshots: SnapshotStore
    clock: Callable[[], datetime] = utc_now
    env: Mapping[str, str] = field(default_factory=dict)
    concurrency: int = 8  # steps of one run in flight at once
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    registry: Registry = field(default_factory=default_registry)


async def run_playbook(
    playbook: Playbook,
    params: Mapping[str, str] | None,
    ctx: RunContext,
    on_progress: ProgressCallback | None = None,
    *,
    scope: IncidentScope | None = None,
    run_id: str | None = None,
) -> PlaybookRun:
    """Run every step and return the finished run; a step that fails is recorded, never raised.

    Raises UnknownStepKind or ParameterError before any step starts. `on_progress` gets a copy of the run
    each time a step starts and each time one finishes, in that order, and never holds a step up.
    """
    ctx.registry.check(playbook)
    await ctx.registry.load(playbook)
    scope = scope or IncidentScope()
    bindings = Bindings(playbook, params or {}, scope, ctx.env)
    redactor = Redactor(bindings.secrets)
    register_secrets(bindings.secrets)  # every log line of the process, the libraries' included
    run = PlaybookRun(
        run_id=run_id or uuid.uuid4().hex,
        playbook=playbook.name,
        side=playbook.side,
        incident_id=scope.incident_id,
        params={k: redactor.scrub_optional(v) for k, v in bindings.display().items()},
        started_at=ctx.clock(),
        steps=[StepResult(id=s.id, kind=s.kind, item_ref=playbook.item_ref(s)) for s in playbook.steps],
    )
    bound = log.bind(run_id=run.run_id, playbook=playbook.name, incident_id=scope.incident_id)
    bound.info("playbook.run.started", steps=len(playbook.steps))
    semaphore = asyncio.Semaphore(max(1, ctx.concurrency))
    async with _Progress(run, on_progress, ctx.clock, bound) as progress, asyncio.TaskGroup() as group:
        for index, step in enumerate(playbook.steps):
            job = _StepJob(index, step, ctx, bindings, redactor, progress, bound)
            group.create_task(job.run(semaphore))
    counts = {state.value: sum(s.state is state for s in run.steps) for state in StepState if state.finished}
    bound.info("playbook.run.finished", **counts)
    return run


class _Progress:
    """Holds the run as it stands and hands copies to the callback in order, off the steps' path."""

    def __init__(
        self,
        run: PlaybookRun,
        callback: ProgressCallback | None,
        clock: Callable[[], datetime],
        logger: Any,
    ) -> None:
        self.run = run
        self._callback = callback
        self._clock = clock
        self._log = logger
        self._queue: asyncio.Queue[PlaybookRun | None] = asyncio.Queue()
        self._publisher: asyncio.Task[None] | None = None

    def update(self, index: int, **changes: Any) -> None:
        self.run.steps[index] = self.run.steps[index].model_copy(update=changes)
        if self.run.done and self.run.finished_at is None:
            self.run.finished_at = self._clock()
        if self._callback is not None:
            self._queue.put_nowait(self.run.model_copy(deep=True))

    async def _publish(self) -> None:
        assert self._callback is not None
        while (snapshot := await self._queue.get()) is not None:
            try:
                await self._callback(snapshot)
            except Exception as exc:
                # A Slack hiccup must not stop the playbook; the final run is returned all the same.
                self._log.warning("playbook.progress.failed", error=type(exc).__name__)

    async def __aenter__(self) -> _Progress:
        if self._callback is not None:
            self._publisher = asyncio.create_task(self._publish())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._publisher is None:
            return
        if exc is None:
            self._queue.put_nowait(None)
            await self._publisher
        else:
            self._publisher.cancel()


def is_transient(exc: BaseException) -> bool:
    """Connection errors, timeouts and 5xx answers may pass on a retry; everything else will not."""
    if isinstance(exc, TransientStepError):
        return True
    if isinstance(exc, StepError | httpx.UnsupportedProtocol):
        return False
    return isinstance(exc, httpx.TransportError | TimeoutError | ConnectionError)


class _Failed(Exception):
    """An attempt at a step that failed: `error` says why, `transient` whether another attempt may pass."""

    def __init__(self, error: str, *, transient: bool) -> None:
        super().__init__(error)
        self.error = error
        self.transient = transient


def _describe(exc: BaseException) -> str:
    if isinstance(exc, StepError):
        return str(exc)
    # Not ours: the text may quote a value of the answer (`could not convert string to float: '...'`).
    text = describe_values(str(exc).strip().split("\n")[0])
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class _StepJob:
    index: int
    step: StepSpec
    ctx: RunContext
    bindings: Bindings
    redactor: Redactor
    progress: _Progress
    log: Any
    rendered: StepSpec | None = None

    async def run(self, semaphore: asyncio.Semaphore) -> None:
        async with semaphore:
            started = time.monotonic()
            self.progress.update(self.index, state=StepState.RUNNING, started_at=self.ctx.clock())
            finding, error, attempts = await self._attempts()
            changes = self._result(finding, error)
            elapsed = round(time.monotonic() - started, 4)
            self.progress.update(
                self.index, **changes, finished_at=self.ctx.clock(), elapsed=elapsed, attempts=attempts
            )
            self.log.info(
                "playbook.step.finished",
                step=self.step.id,
                kind=self.step.kind,
                state=changes["state"].value,
                attempts=attempts,
                elapsed=elapsed,
                error=changes["error"],
            )

    async def _attempts(self) -> tuple[Finding | None, str | None, int]:
        """The finding, or the error, after up to `retries + 1` attempts; and how many were made.

        Only a transient failure is tried again, after `backoff` seconds doubling each time.
        """
        step = self.step
        try:
            rendered = self.rendered = self.bindings.render_step(step)
        except StepError as exc:
            return None, str(exc), 0
        # What the step sends (a token, basic auth's pair, a URL's password) is scrubbed in every encoding.
        credentials = self.bindings.credentials(rendered)
        self.redactor = self.redactor.extended(credentials)
        register_secrets(credentials)
        execute = self.ctx.registry.executor(step.kind)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(step.retries + 1),
            wait=wait_exponential(multiplier=self.ctx.backoff),
            retry=retry_if_exception(lambda exc: isinstance(exc, _Failed) and exc.transient),
            before_sleep=self._log_retry,
            reraise=True,
        )
        attempt = 0
        try:
            async for trying in retrying:
                with trying:
                    attempt = trying.retry_state.attempt_number
                    return await self._attempt(execute, rendered), None, attempt
        except _Failed as failed:
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            return None, f"{failed.error}{tries}", attempt
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _attempt(self, execute: Executor, rendered: StepSpec) -> Finding:
        """One run of the step under its timeout; any failure is raised as _Failed, saying if it may pass."""
        step = self.step
        deadline = asyncio.timeout(step.timeout)
        context = StepContext(
            http=self.ctx.http,
            snapshots=RedactingSnapshotStore(self.ctx.snapshots, self.redactor.scrub_data),
            now=self.ctx.clock(),
            timeout=step.timeout,
            playbook=self.progress.run.playbook,
            step_id=step.id,
            redactor=self.redactor,
        )
        try:
            async with deadline:
                return await execute(rendered, context)
        except TimeoutError as exc:
            if deadline.expired():
                raise _Failed(f"timed out after {format_duration(step.timeout)}", transient=True) from exc
            raise _Failed(_describe(exc), transient=True) from exc
        except Exception as exc:
            if not isinstance(exc, StepError | httpx.TransportError):
                # Unexpected: keep the traceback for whoever debugs it, scrubbed like everything else.
                trace = "".join(traceback.format_exception(exc))
                self.log.warning("playbook.step.error", step=step.id, traceback=self.redactor.scrub(trace))
            raise _Failed(_describe(exc), transient=is_transient(exc)) from exc

    def _log_retry(self, state: RetryCallState) -> None:
        failed = state.outcome.exception() if state.outcome else None
        self.log.info(
            "playbook.step.retry",
            step=self.step.id,
            attempt=state.attempt_number,
            delay=state.upcoming_sleep,
            error=self.redactor.scrub(failed.error if isinstance(failed, _Failed) else str(failed)),
        )

    def _result(self, finding: Finding | None, error: str | None) -> dict[str, Any]:
        scrub = self.redactor.scrub
        if finding is None:
            message = clip(scrub(error or "failed"), DETAIL_MAX)
            return {
                "state": StepState.FAILED,
                "status": StepState.FAILED.status,
                "detail": clip(f"could not check: {message}"),
                "error": message,
            }
        state = _STATE[finding.outcome]
        link = scrub(finding.link) if finding.link else None
        asset = finding.asset
        if self.rendered is not None and self.rendered.asset is not None:
            asset = Asset(kind=self.rendered.asset.kind, name=self.rendered.asset.name)
        return {
            "state": state,
            "status": state.status,
            "detail": clip(scrub(finding.detail)),
            "asset": asset.model_copy(update={"name": scrub(asset.name)}) if asset else None,
            # A link whose host was a secret is no use once masked.
            "link": None if link is None or MASK in link else link,
            "metrics": finding.metrics,
            "error": None,
        }
