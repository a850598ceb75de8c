"""The servers bench_ack.py loads: a bare Bolt app (two modes) and Handoff itself, each one uvicorn process."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import uvicorn


def bare(process_before_response: bool) -> Any:
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=process_before_response,
    )

    @app.command("/incident")
    async def noop(ack: Any) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Any:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


async def handoff() -> Any:
    from bot.app import build_handoff
    from bot.asgi import settle_heap
    from bot.config import load_config
    from bot.logging import configure
    from bot.settings import load_settings

    configure("warning", "json")
    settings = load_settings()
    assert settings.handoff_config is not None
    built = await build_handoff(settings, load_config(settings.handoff_config))
    settle_heap()  # as `handoff serve` does (bot/cli.py)
    return built.asgi


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["bare", "bare-default", "handoff"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = asyncio.run(handoff()) if args.kind == "handoff" else bare(args.kind == "bare")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
