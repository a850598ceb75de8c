"""``run_sandbox``: serve the stand-in for manual use (the ``handoff sandbox`` command calls it)."""

from __future__ import annotations

import argparse
import secrets
import signal
import threading
from collections.abc import Sequence
from typing import Any

from slack_sandbox.sandbox import SlackSandbox


def run_sandbox(
    port: int,
    host: str = "127.0.0.1",
    signing_secret: str | None = None,
    request_url: str | None = None,
    *,
    seed_demo: bool = True,
    web_actions: bool = False,
) -> None:
    """Serve until Ctrl-C, after printing what the bot needs (API URL, token, signing secret)."""
    sb = SlackSandbox(
        signing_secret=signing_secret or secrets.token_hex(16), request_url=request_url, host=host, port=port
    )
    if seed_demo:
        alice = sb.add_user("alice", real_name="Alice Example")
        bob = sb.add_user("bob", real_name="Bob Example")
        sb.add_usergroup("oncall", [alice, bob])
        sb.add_channel("general", members=[alice, bob], is_general=True)
    sb.configure(web_actions=web_actions)
    sb.start_in_thread()
    print(f"Slack stand-in at {sb.base_url}")
    print(f"  SLACK_API_URL={sb.api_url}")
    print(f"  SLACK_BOT_TOKEN={sb.bot_token}")
    print(f"  SLACK_SIGNING_SECRET={sb.signing_secret}")
    print(f"  SLACK_APP_TOKEN={sb.app_token}  (Socket Mode: handoff socket)")
    print(f"  bot user {sb.bot_user_id}, team {sb.team_id}, app {sb.app_id}")
    print(f"  requests to the app go to: {request_url or '(not set: Socket Mode once the app connects)'}")
    mode = "clicks act as the chosen person" if web_actions else "read-only"
    print(f"  live page: {sb.base_url}/_sandbox/ui ({mode})")
    print(f"  workspace state: {sb.base_url}/_sandbox/state  —  Ctrl-C to stop", flush=True)
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sb.stop_in_thread()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m slack_sandbox", description="Local Slack stand-in")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--signing-secret", default=None)
    parser.add_argument("--request-url", default=None, help="the bot's /slack/events URL")
    parser.add_argument("--no-demo", action="store_true", help="start with an empty workspace")
    args = parser.parse_args(argv)
    run_sandbox(args.port, args.host, args.signing_secret, args.request_url, seed_demo=not args.no_demo)
