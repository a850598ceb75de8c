"""auth.test: who the token belongs to (Bolt calls it at start)."""

from __future__ import annotations

from slack_sandbox.methods.registry import CallContext, api_method
from slack_sandbox.models import JSON


@api_method("auth.test")
def auth_test(ctx: CallContext) -> JSON:
    ws = ctx.ws
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_user.name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user.id,
        "bot_id": ws.bot_user.bot_id,
        "app_id": ws.app_id,
        "is_enterprise_install": False,
    }
