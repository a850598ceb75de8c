"""`handoff demo`: one command, no Slack workspace, no config file."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from bot.demo.scenarios import SCENARIOS


def demo(
    scenario: Annotated[
        str, typer.Option(help=f"Which incident to play: {', '.join(SCENARIOS)}")
    ] = "stale-table",
    interactive: Annotated[
        bool, typer.Option(help="Leave the responders' clicks to you, in the browser")
    ] = False,
    port: Annotated[int, typer.Option(help="Port of the Slack stand-in's page (0: any free port)")] = 0,
    all_scenarios: Annotated[bool, typer.Option("--all", help="Play every scenario in turn")] = False,
) -> None:
    """Play a whole MLOps/DataOps handoff on embedded defaults, with the local Slack stand-in as the workspace."""
    from bot.demo.runner import Demo
    from bot.demo.transcript import Transcript
    from bot.logging import configure

    if scenario not in SCENARIOS:
        raise typer.BadParameter(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    configure("warning", "console")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    names = list(SCENARIOS) if all_scenarios else [scenario]
    codes = []
    for name in names:
        run = Demo(SCENARIOS[name], interactive, redis_url, port, Transcript())
        try:
            codes.append(asyncio.run(run.run()))
        except KeyboardInterrupt:
            codes.append(130)
            break
    raise typer.Exit(max(codes))
