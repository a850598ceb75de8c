"""The live page's HTTP side: the page and its two assets, and ``POST /_sandbox/act`` (a person acts).

The act endpoint runs in the stand-in's own loop, like every request it serves. The person API it calls
(``click``, ``select``, ``submit_view``, ``close_view``) holds the workspace lock only for synchronous
moments and hands the signed request to the same loop with ``run_coroutine_threadsafe``; awaiting that
here never blocks the loop, so the app under test can call the Web API back while it handles the click.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from slack_sandbox.errors import SandboxError
from slack_sandbox.inbound import Ack
from slack_sandbox.protocols import People, SandboxParts

PAGE_PATH = "/_sandbox/ui"
ACT_PATH = "/_sandbox/act"
_ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
# Only our own files run; images in messages may come from anywhere, as in Slack.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' http: https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ACT_KINDS = ("click", "select", "submit", "close")
_TEXT_INPUTS = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
OFF_MESSAGE = (
    "interactive mode is off: start the stand-in with sb.configure(web_actions=True) "
    "(or SandboxConfig(web_actions=True)) to act from the page"
)


class ActError(Exception):
    """A malformed act request (answered 400 with the message, which the page shows)."""


def _asset(name: str) -> Response:
    body = resources.files("slack_sandbox.web").joinpath("static", name).read_bytes()
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if name == "index.html":
        headers["Content-Security-Policy"] = _CSP
    return Response(body, media_type=_ASSETS[name], headers=headers)


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ActError(f"{key} must be a string")
    return value


def ack_json(ack: Ack | None) -> dict[str, Any] | None:
    """What the page needs to know about the app's answer (Slack shows a failed ack to the person)."""
    if ack is None:
        return None
    return {
        "ok": ack.ok,
        "status": ack.status,
        "timed_out": ack.timed_out,
        "error": ack.error,
        "elapsed": round(ack.elapsed, 3),
        "response_action": ack.response_action,
        "errors": ack.errors,
    }


async def perform(person: People, body: dict[str, Any]) -> Ack | None:
    """Do what the act request says, as its person, through the sandbox's own person API."""
    kind = body.get("kind")
    if kind not in ACT_KINDS:
        raise ActError(f"kind must be one of {', '.join(ACT_KINDS)}; got {kind!r}")
    user_ref = _opt_str(body, "user")
    if user_ref is None:
        raise ActError("user is required (the person who acts)")
    with person.ws.lock:
        user = person.ws.resolve_user(user_ref)
    if user.is_bot or user.deleted:
        raise ActError(f"{user.name} is not a person who can act")
    view = _opt_str(body, "view_id")
    channel = _opt_str(body, "channel")
    message_ts = _opt_str(body, "message_ts")
    block_id = _opt_str(body, "block_id")
    action_id = _opt_str(body, "action_id")
    if kind in ("click", "select") and view is None and (channel is None or message_ts is None):
        raise ActError("say where: view_id, or channel and message_ts")
    if kind == "click":
        value = _opt_str(body, "value")
        if action_id is None:
            raise ActError("action_id is required to click")
        return await person.click(
            user.id,
            channel=channel,
            message_ts=message_ts,
            view=view,
            block_id=block_id,
            action_id=action_id,
            value=value,
        )
    if kind == "select":
        if action_id is None:
            raise ActError("action_id is required to select")
        if "value" not in body:
            raise ActError("value is required to select")
        return await person.select(
            user.id, action_id, body["value"], channel=channel, message_ts=message_ts, view=view
        )
    if view is None:
        raise ActError(f"view_id is required to {kind}")
    if kind == "close":
        return await person.close_view(user.id, view)
    values = body.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise ActError("values must be an object keyed by input block_id")
    # null means "left empty": a text input is then emptied (Slack reports value: null); a menu a person
    # cannot empty again keeps what it had.
    texts = {
        str(b.get("block_id"))
        for v in person.open_views(user.id)
        if v.id == view
        for b in v.blocks
        if b.get("type") == "input" and (b.get("element") or {}).get("type") in _TEXT_INPUTS
    }
    return await person.submit_view(
        user.id, view, {k: v for k, v in values.items() if v is not None or k in texts}
    )


def web_routes(sb: SandboxParts) -> list[BaseRoute]:
    """The page at ``/`` and ``/_sandbox/ui``, its assets, and the act endpoint, for this sandbox.

    It knows the sandbox only through ``slack_sandbox.protocols`` (no sandbox class is imported here):
    the act endpoint needs the person API (``People``), which ``SlackSandbox`` has.
    """

    async def root(request: Request) -> Response:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(PAGE_PATH + query, status_code=307)

    async def page(request: Request) -> Response:
        return _asset("index.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _ASSETS or name == "index.html":
            return JSONResponse({"ok": False, "error": f"no asset {name!r}"}, status_code=404)
        return _asset(name)

    async def act(request: Request) -> Response:
        if not sb.config.web_actions:
            return JSONResponse({"ok": False, "error": OFF_MESSAGE}, status_code=403)
        if not isinstance(sb, People):
            return JSONResponse({"ok": False, "error": "this stand-in has no people"}, status_code=501)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"ok": False, "error": "the body must be JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"ok": False, "error": "the body must be a JSON object"}, status_code=400)
        try:
            ack = await perform(sb, body)
        except (ActError, SandboxError) as exc:
            return JSONResponse({"ok": False, "error": str(exc) or type(exc).__name__}, status_code=400)
        except Exception as exc:  # a stand-in bug must fail the test, as on the Web API side
            message = f"{ACT_PATH}: {type(exc).__name__}: {exc}"
            sb.internal_errors.append(message)
            sb.ws.record_violation("sandbox_bug", message)
            return JSONResponse({"ok": False, "error": message}, status_code=500)
        return JSONResponse({"ok": True, "ack": ack_json(ack)})

    return [
        Route("/", root, methods=["GET"]),
        Route(PAGE_PATH, page, methods=["GET"]),
        Route(PAGE_PATH + "/{name}", asset, methods=["GET"]),
        Route(ACT_PATH, act, methods=["POST"]),
    ]
