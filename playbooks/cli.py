"""The `handoff playbooks` commands: validate playbook files, and dry-run a playbook outside Slack."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import structlog
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.domain.models import Asset, AssetKind
from bot.store import connect
from bot.yamlfile import YamlFileError
from playbooks.bindings import IncidentScope
from playbooks.errors import PlaybookError
from playbooks.loader import find, load_playbooks
from playbooks.results import PlaybookRun, StepResult, StepState
from playbooks.runner import RunContext, run_playbook
from playbooks.schema import Playbook

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
EXIT_OK, EXIT_ANOMALOUS, EXIT_USAGE, EXIT_UNKNOWN = 0, 1, 2, 3

app = typer.Typer(
    name="playbooks",
    help="Validate and dry-run evidence playbooks.",
    no_args_is_help=True,
    add_completion=False,
)

_STYLE = {
    StepState.OK: ("green", "ok"),
    StepState.ANOMALOUS: ("red", "ANOMALOUS"),
    StepState.INCONCLUSIVE: ("yellow", "unknown"),
    StepState.FAILED: ("yellow", "FAILED"),
}


def _fail(lines: list[str]) -> typer.Exit:
    # Plain lines on stderr: one problem per line, `file:line: field: message`, easy to grep or click.
    for line in lines:
        typer.echo(line, err=True)
    return typer.Exit(EXIT_USAGE)


def _triggers(playbook: Playbook) -> str:
    t = playbook.triggers
    if t.manual:
        return "manual"
    parts = [f"kinds {','.join(k.value for k in t.asset_kinds)}" if t.asset_kinds else ""]
    parts += [f"names {','.join(t.asset_names)}" if t.asset_names else ""]
    parts += [f"labels {','.join(f'{k}={v}' for k, v in t.labels.items())}" if t.labels else ""]
    parts += [f"severity {','.join(s.value for s in t.severities)}" if t.severities else ""]
    return "; ".join(p for p in parts if p)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Playbook files or folders; none: the built-ins only.")
    ] = None,
    builtin: Annotated[
        bool, typer.Option("--builtin/--no-builtin", help="Load the built-ins too, as the bot does.")
    ] = True,
) -> None:
    """Check playbook files; exit 2 with one `file:line: field: message` line per problem."""
    try:
        playbooks = load_playbooks(paths or [], builtin=builtin)
    except YamlFileError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    table = Table(title=f"{len(playbooks)} playbooks valid")
    for column in ("name", "side", "steps", "items", "triggers", "file"):
        table.add_column(column)
    for p in playbooks:
        kinds = ", ".join(f"{s.id} ({s.kind})" for s in p.steps)
        items = ", ".join(dict.fromkeys(s.item for s in p.steps))
        table.add_row(p.name, p.side.value, kinds, items, _triggers(p), str(p.source or ""))
    Console().print(table)


def _pairs(values: list[str], what: str, sep: str = "=") -> dict[str, str]:
    out = {}
    for value in values:
        key, found, rest = value.partition(sep)
        if not found or not key:
            raise typer.BadParameter(f"{value!r}: expected KEY{sep}VALUE", param_hint=what)
        out[key.strip()] = rest
    return out


def _assets(values: list[str]) -> tuple[Asset, ...]:
    out = []
    for kind, name in _pairs(values, "--asset", ":").items():
        if kind not in AssetKind.__members__.values():
            raise typer.BadParameter(f"{kind!r} is not one of {', '.join(AssetKind)}", param_hint="--asset")
        out.append(Asset(kind=AssetKind(kind), name=name))
    return tuple(out)


def finding_line(step: StepResult) -> str:
    colour, word = _STYLE.get(step.state, ("white", step.state.value))
    elapsed = f" [dim]({step.elapsed:.2f} s)[/dim]" if step.elapsed is not None else ""
    return (
        f"[{colour}]{word:>9}[/{colour}]  [bold]{escape(step.item_ref)}[/bold]  {escape(step.id)}: "
        f"{escape(step.detail)}{elapsed}"
    )


@contextmanager
def _logging(verbose: bool) -> Iterator[None]:
    # Logs go to stderr so that stdout stays the findings (or the JSON); the caller's setup comes back after.
    saved = structlog.get_config()
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.dev.ConsoleRenderer(colors=False)],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO if verbose else logging.WARNING),
    )
    try:
        yield
    finally:
        structlog.configure(**saved)


def exit_code(run: PlaybookRun) -> int:
    states = {s.state for s in run.steps}
    if StepState.ANOMALOUS in states:
        return EXIT_ANOMALOUS
    return EXIT_OK if states == {StepState.OK} else EXIT_UNKNOWN


async def _dry_run(
    playbook: Playbook, params: dict[str, str], scope: IncidentScope, console: Console, concurrency: int
) -> PlaybookRun:
    stores = connect(os.environ.get("REDIS_URL", DEFAULT_REDIS_URL))
    try:
        async with httpx.AsyncClient(timeout=30.0) as http:
            ctx = RunContext(
                http=http, snapshots=stores.snapshots, env=dict(os.environ), concurrency=concurrency
            )
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task(escape(playbook.name), total=len(playbook.steps))
                printed: set[str] = set()

                async def on_progress(run: PlaybookRun) -> None:
                    for step in run.steps:
                        if step.state.finished and step.id not in printed:
                            printed.add(step.id)
                            bar.console.print(finding_line(step))
                            bar.advance(task)

                return await run_playbook(playbook, params, ctx, on_progress, scope=scope)
    finally:
        await stores.aclose()


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="The playbook's name.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="KEY=VALUE, repeatable.")] = None,
    directory: Annotated[
        list[Path] | None, typer.Option("--dir", help="A folder (or file) of playbooks, repeatable.")
    ] = None,
    asset: Annotated[
        list[str] | None, typer.Option("--asset", help="KIND:NAME of an incident asset, for {asset.KIND}.")
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="KEY=VALUE alert label, for {labels.KEY}.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON at the end.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Steps in flight at once.")] = 8,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each step to stderr.")] = False,
) -> None:
    """Run a playbook against the real sources and print each finding; nothing is posted to Slack.

    Exit 0 when every step is ok, 1 when one is anomalous, 3 when one failed or could not tell.
    """
    params = _pairs(param or [], "--param")
    scope = IncidentScope(assets=_assets(asset or []), labels=_pairs(label or [], "--label"))
    try:
        playbook = find(load_playbooks(directory or []), name)
    except YamlFileError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    except PlaybookError as exc:
        raise _fail([str(exc)]) from None
    console = Console(stderr=as_json)
    try:
        with _logging(verbose):
            result = asyncio.run(_dry_run(playbook, params, scope, console, concurrency))
    except PlaybookError as exc:
        raise _fail([str(exc)]) from None
    counts = ", ".join(
        f"{sum(s.state is state for s in result.steps)} {state.value}"
        for state in _STYLE
        if any(s.state is state for s in result.steps)
    )
    console.print(f"[bold]{escape(result.playbook)}[/bold] run {result.run_id}: {counts}")
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    raise typer.Exit(exit_code(result))
