"""users.info, users.lookupByEmail, users.list, usergroups.list, usergroups.users.list."""

from __future__ import annotations

from slack_sandbox.errors import SlackError
from slack_sandbox.methods.common import page
from slack_sandbox.methods.registry import CallContext, api_method
from slack_sandbox.models import JSON
from slack_sandbox.serialize import user_json, usergroup_json


def _with_email(ctx: CallContext) -> bool:
    return "users:read.email" in ctx.token.scopes


@api_method("users.info", raises={"user_not_found"})
def users_info(ctx: CallContext) -> JSON:
    user = ctx.ws.user(ctx.str_arg("user"))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user_json(ctx.ws, user, include_email=_with_email(ctx))}


@api_method("users.lookupByEmail", raises={"users_not_found"})
def lookup_by_email(ctx: CallContext) -> JSON:
    email = ctx.str_arg("email").strip().lower()
    user = next((u for u in ctx.ws.users.values() if u.email and u.email.lower() == email), None)
    if user is None or user.deleted:
        raise SlackError("users_not_found")
    return {"user": user_json(ctx.ws, user, include_email=True)}


@api_method("users.list", raises={"invalid_cursor"})
def users_list(ctx: CallContext) -> JSON:
    users = list(ctx.ws.users.values())
    chunk, nxt = page(ctx, users, default_limit=200, max_limit=1000)
    return {
        "members": [user_json(ctx.ws, u, include_email=_with_email(ctx)) for u in chunk],
        "cache_ts": ctx.ws.now_int(),
        "response_metadata": {"next_cursor": nxt},
    }


@api_method("usergroups.list")
def usergroups_list(ctx: CallContext) -> JSON:
    include_disabled = ctx.bool_arg("include_disabled")
    groups = [g for g in ctx.ws.usergroups.values() if include_disabled or not g.disabled]
    return {
        "usergroups": [
            usergroup_json(
                ctx.ws,
                g,
                include_users=ctx.bool_arg("include_users"),
                include_count=ctx.bool_arg("include_count"),
            )
            for g in groups
        ]
    }


@api_method("usergroups.users.list", raises={"no_such_subteam"})
def usergroup_users(ctx: CallContext) -> JSON:
    grp = ctx.ws.usergroups.get(ctx.str_arg("usergroup"))
    if grp is None or (grp.disabled and not ctx.bool_arg("include_disabled")):
        raise SlackError("no_such_subteam")
    return {"users": list(grp.users)}
