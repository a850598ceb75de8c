"""apps.connections.open: a one-use WebSocket URL for Socket Mode, for an app-level token."""

from __future__ import annotations

from slack_sandbox.methods.registry import CallContext, api_method
from slack_sandbox.models import JSON

# Where the stand-in serves Socket Mode connections (Slack's URLs look like wss://wss-primary.slack.com/link/?…).
LINK_PATH = "/link/"


@api_method("apps.connections.open", token="app", app_scopes=("connections:write",))
def connections_open(ctx: CallContext) -> JSON:
    ticket = ctx.ws.issue_socket_ticket()
    scheme, _, rest = ctx.base_url.partition("://")
    ws_scheme = "wss" if scheme == "https" else "ws"
    return {"url": f"{ws_scheme}://{rest}{LINK_PATH}?ticket={ticket}&app_id={ctx.ws.app_id}"}
