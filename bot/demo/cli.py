"""`handoff demo`: one command, no Slack workspace, no config file."""

from __future__ import annotations

import asyncio
import signal
import sys
import traceback
from typing import TYPE_CHECKING, Annotated

import typer

from bot.demo.errors import DEBUG_HINT, describe, find_demo_error, one_line
from bot.demo.scenarios import SCENARIOS

if TYPE_CHECKING:
    from bot.demo.runner import DemoOptions

REDIS_URL_ENV = "HANDOFF_DEMO_REDIS_URL"


class Interrupts:
    """Ctrl-C and SIGTERM: during a scenario they cancel it (everything started is then stopped and the
    temporary folder removed); while the page is served they end the serving. Later signals are ignored
    while that clean-up runs."""

    def __init__(self, task: asyncio.Task[object]) -> None:
        self.task = task
        self.signal: int | None = None
        self.serving = False
        self.stop = asyncio.Event()

    def fire(self, signum: int) -> None:
        if self.signal is not None:
            return
        self.signal = signum
        if self.serving:
            self.stop.set()
        else:
            self.task.cancel()

    async def serve(self) -> None:
        self.serving = True
        if self.signal is None:
            await self.stop.wait()


async def _main(options: DemoOptions, serve: bool) -> int:
    from bot.demo.runner import run_demo
    from bot.demo.transcript import Transcript

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupts = Interrupts(task)
    watched = (signal.SIGINT, signal.SIGTERM)
    for signum in watched:
        loop.add_signal_handler(signum, interrupts.fire, signum)
    try:
        return await run_demo(options, Transcript(), interrupts.serve if serve else None)
    except asyncio.CancelledError:
        if interrupts.signal is None:
            raise
        task.uncancel()
        return 128 + interrupts.signal
    finally:
        for signum in watched:
            loop.remove_signal_handler(signum)


def demo(
    scenario: Annotated[
        str, typer.Option(help=f"Which incident to play: {', '.join(SCENARIOS)}")
    ] = "stale-table",
    all_scenarios: Annotated[bool, typer.Option("--all", help="Play every scenario in turn")] = False,
    interactive: Annotated[
        bool, typer.Option(help="Leave the responders' clicks to you, in the browser")
    ] = False,
    port: Annotated[
        int,
        typer.Option(help="Port of the Slack stand-in's page (0: any free port; with --all, the first's)"),
    ] = 0,
    exit_: Annotated[
        bool,
        typer.Option(
            "--exit", help="End after the decision instead of serving the stand-in's page until Ctrl-C"
        ),
    ] = False,
    redis_url: Annotated[
        str | None,
        typer.Option(
            "--redis-url",
            envvar=REDIS_URL_ENV,
            help="Use this Redis database instead of a private redis-server; it is FLUSHED before each scenario",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="On an error, print the traceback; show the bot's warnings")
    ] = False,
) -> None:
    """Play a whole MLOps/DataOps handoff on embedded defaults, with the local Slack stand-in as the workspace."""
    if scenario not in SCENARIOS:
        print(
            f"demo: unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}",
            file=sys.stderr,
            flush=True,
        )
        raise typer.Exit(2)
    try:
        from bot.demo.runner import DemoOptions
        from bot.logging import configure

        configure("warning" if debug else "critical", "console")
        options = DemoOptions(
            scenarios=list(SCENARIOS) if all_scenarios else [scenario],
            interactive=interactive,
            port=port,
            redis_url=redis_url or None,
        )
        code = asyncio.run(_main(options, serve=not exit_))
    except (typer.Exit, SystemExit):
        raise
    except BaseException as exc:  # every failure becomes one plain line; the traceback only under --debug
        if debug:
            traceback.print_exception(exc)
        if isinstance(exc, KeyboardInterrupt):
            raise typer.Exit(130) from None
        found = find_demo_error(exc)
        line = found.line() if found else one_line(f"demo: failed: {describe(exc)}; {DEBUG_HINT}")
        print(line, file=sys.stderr, flush=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)
