"""The `handoff` command line: serve, socket, worker, check-config, sandbox, demo and playbooks."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bot.config import HandoffConfig, load_config
from bot.domain.models import Side
from bot.settings import Settings, SettingsError, load_settings
from bot.yamlfile import YamlFileError

app = typer.Typer(
    help="Handoff: evidence-based incident handoff between MLOps and DataOps, in Slack.", no_args_is_help=True
)
err = Console(stderr=True)
out = Console()
_log_errors = False  # serve/socket with JSON logs: problems at start-up are log lines too


def _start_logging(settings: Settings | None = None) -> None:
    """Logging for serve/socket, set up before anything can write: from the settings, or from the raw
    LOG_LEVEL / LOG_FORMAT variables while the settings are not loaded yet (so a settings error is a log line)."""
    import os

    from bot.logging import configure

    global _log_errors
    level: str
    fmt: str
    if settings is not None:
        level, fmt = settings.log_level, settings.log_format
    else:
        level = os.environ.get("LOG_LEVEL", "").lower()
        fmt = os.environ.get("LOG_FORMAT", "").lower()
        level = level if level in ("debug", "info", "warning", "error") else "info"
        fmt = fmt if fmt in ("auto", "json", "console") else "auto"
    _log_errors = configure(level, fmt)


def _fail(lines: list[str]) -> None:
    if _log_errors:
        import structlog

        for line in lines:
            structlog.get_logger("handoff.cli").error("startup.invalid", problem=line)
        raise typer.Exit(2)
    for line in lines:
        err.print(f"[red]error[/red]: {line}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _load(
    config_path: Path | None = None, need_settings: bool = True
) -> tuple[Settings | None, HandoffConfig]:
    problems: list[str] = []
    settings = None
    if need_settings:
        try:
            settings = load_settings()
        except SettingsError as exc:
            problems.extend(exc.lines)
    path = config_path or (settings.handoff_config if settings else None)
    if path is None:
        import os

        env_path = os.environ.get("HANDOFF_CONFIG")
        path = Path(env_path) if env_path else None
    config = None
    if path is None:
        problems.append(
            "HANDOFF_CONFIG: is required but not set (path of the YAML config; see handoff.example.yaml)"
        )
    else:
        try:
            config = load_config(path)
        except YamlFileError as exc:
            problems.extend(str(p) for p in exc.problems)
    if problems or config is None:
        _fail(problems)
    assert config is not None
    try:
        from bot.app import load_all_playbooks

        load_all_playbooks(config)  # a bad playbook fails here, naming its file, line and field
    except YamlFileError as exc:
        _fail([str(p) for p in exc.problems])
    return settings, config


# uvicorn's connection settings for `serve` (docs/security.md). The body cap and the body read deadline are the
# app's own (bot/http_guard.py); these bound what comes before and after a request.
SERVER_LIMITS: dict[str, Any] = {
    "http": "h11",  # the implementation the tests run against (httptools would parse differently)
    "h11_max_incomplete_event_size": 16 * 1024,  # request line + headers: more is a 400 from h11
    "timeout_keep_alive": 5,  # an idle keep-alive connection is closed after 5 s
    "timeout_graceful_shutdown": 15,  # on SIGTERM, requests in flight get 15 s
    "server_header": False,  # no "server: uvicorn" in the answers
}


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 3000,
) -> None:
    """Serve the bot over HTTP: /slack/events, /alerts/<source>, /healthz, /readyz, /metrics."""
    _start_logging()
    settings, config = _load()
    assert settings is not None
    _start_logging(settings)
    import uvicorn

    from bot.app import build_handoff
    from bot.asgi import settle_heap

    async def main() -> None:
        handoff = await build_handoff(settings, config)
        assert handoff.asgi is not None
        settle_heap()  # start-up's heap frozen, fewer young collections (bot/asgi.py)
        # log_config=None: uvicorn keeps its hands off logging; its error and access loggers propagate to the
        # root handler of bot.logging (JSON or console) and follow LOG_LEVEL.
        server = uvicorn.Server(
            uvicorn.Config(
                handoff.asgi,
                host=host,
                port=port,
                log_config=None,
                log_level=None,
                lifespan="on",
                **SERVER_LIMITS,
            )
        )
        await server.serve()

    asyncio.run(main())


@app.command()
def socket() -> None:
    """Run the same bot over Socket Mode (needs SLACK_APP_TOKEN); alert webhooks are not served in this mode."""
    _start_logging()
    settings, config = _load()
    assert settings is not None
    _start_logging(settings)
    if settings.slack_app_token is None:
        _fail(
            ["SLACK_APP_TOKEN: is required for Socket Mode (an xapp- app-level token with connections:write)"]
        )
    assert settings.slack_app_token is not None
    import signal

    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import build_handoff
    from bot.logging import register_secrets

    app_token = settings.slack_app_token.get_secret_value()
    register_secrets([app_token])

    async def main() -> None:
        handoff = await build_handoff(settings, config)
        await handoff.start()
        # SIGTERM (docker stop) and Ctrl-C: close the connection, let the work after acks finish, then exit 0.
        stopping = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
        handler = AsyncSocketModeHandler(handoff.bolt, app_token)
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            await stopping.wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]
            await handoff.stop()

    asyncio.run(main())


@app.command()
def worker() -> None:
    """Run queued playbook runs (config `playbooks.execution: workers`); as many processes as you like."""
    _start_logging()
    settings, config = _load()
    assert settings is not None
    _start_logging(settings)
    if config.playbooks.execution != "workers":
        _fail(
            ["playbooks.execution: is `inline`; set it to `workers` for `handoff serve` to queue runs here"]
        )
    from bot.worker import serve_worker

    asyncio.run(serve_worker(settings, config))


@app.command("check-config")
def check_config(
    config: Annotated[Path | None, typer.Argument(help="Config file (default: $HANDOFF_CONFIG)")] = None,
) -> None:
    """Validate the config (and the playbooks it names) and print a summary."""
    _, conf = _load(config, need_settings=False)
    table = Table(title="Handoff configuration", show_header=True)
    table.add_column("setting")
    table.add_column("value")
    table.add_row("command", conf.command)
    for side, sc in conf.sides.items():
        table.add_row(
            f"{side.label} responders",
            f"{len(sc.users)} user(s), {len(sc.usergroups)} group(s), {len(sc.leads)} lead(s)",
        )
    table.add_row(
        "channel template", f"{conf.channel.template} ({'private' if conf.channel.private else 'public'})"
    )
    table.add_row("triage channel", conf.triage_channel or "none")
    for sev, pol in sorted(conf.severities.items()):
        table.add_row(
            f"{sev.label} reminders", f"every {pol.remind_every}, escalate after {pol.escalate_after}"
        )
    table.add_row("alert sources", ", ".join(sorted(conf.alerts.sources)) or "none")
    checklists = conf.checklist_templates()
    for side, items in checklists.items.items():
        table.add_row(f"{side.label} checklist", ", ".join(i.label for i in items))
    from bot.app import load_all_playbooks

    playbooks = load_all_playbooks(conf)
    for side in Side:
        names = sorted(p.name for p in playbooks if p.side is side)
        table.add_row(f"{side.value} playbooks", ", ".join(names) or "none")
    out.print(table)
    out.print("[green]configuration is valid[/green]")


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Port of the Slack stand-in")] = 3001,
    request_url: Annotated[
        str | None, typer.Option(help="Where to deliver Slack requests (the bot's /slack/events)")
    ] = None,
    web_actions: Annotated[bool, typer.Option(help="Let the live page click and submit as a person")] = False,
) -> None:
    """Run the local Slack stand-in (Web API, inbound requests, a live page), printing its base URL."""
    from slack_sandbox import run_sandbox

    run_sandbox(port=port, request_url=request_url, web_actions=web_actions)


def main() -> None:
    try:
        from playbooks.cli import app as playbooks_app

        app.add_typer(playbooks_app, name="playbooks", help="Validate and dry-run playbooks")
    except ImportError:
        pass
    try:
        from bot.demo.cli import demo

        app.command()(demo)
    except ImportError:
        pass
    app()


if __name__ == "__main__":
    main()
