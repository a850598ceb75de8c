"""Nothing before authentication: bodies read with a cap and a deadline, Slack's signature checked on raw bytes.

Every inbound route reads its body through `read_capped`: a declared Content-Length over the cap is refused at
once (413), a body that grows past the cap is refused as soon as it does (413), and a body that does not arrive
within the deadline is refused (408); each of these answers closes the connection, so the unread rest of the
body is never waited for. `/slack/events` then goes through `SlackInbound`: the signature is verified on the raw
bytes before anything parses them, and only a verified request reaches Bolt. A refused request has no other
effect than its answer and one log line with the reason (never the body, never a header value).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.request import payload_utils
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive

log = structlog.get_logger("handoff.http_guard")

# Slack's largest payloads (a big modal's view state) fit well within 1 MiB.
MAX_SLACK_BODY_BYTES = 1024 * 1024
BODY_READ_TIMEOUT_S = 10.0  # the whole body, not per chunk: a slow drip is cut off as well
SLACK_MAX_SKEW_S = 300  # Slack's replay window
MAX_TIMESTAMP_DIGITS = 12  # Unix seconds have 10 digits until the year 2286
# Set in the Bolt context of every request whose signature `SlackInbound` verified (see handlers/errors.py).
SIGNATURE_VERIFIED = "handoff_signature_verified"

SLACK_TIMESTAMP_HEADER = "x-slack-request-timestamp"
SLACK_SIGNATURE_HEADER = "x-slack-signature"
_SIGNATURE_PREFIX = "v0="
_HEX = frozenset("0123456789abcdef")


class Refused(Exception):
    """A request refused with `status`; `reason` is logged and counted. `close`: the body was not read to its
    end, so the connection cannot carry another request and is closed with the answer."""

    def __init__(self, status: int, reason: str, *, close: bool = False) -> None:
        super().__init__(reason)
        self.status, self.reason, self.close = status, reason, close


def refusal(refused: Refused) -> Response:
    """The answer: the reason for a 400/408/413 (about the framing the sender chose), only `unauthorized` for a
    401 (which check failed is for our log, not for whoever is probing)."""
    headers = {"connection": "close"} if refused.close else None
    error = "unauthorized" if refused.status == 401 else refused.reason
    return JSONResponse({"error": error}, status_code=refused.status, headers=headers)


def ascii_digits(value: str, max_digits: int = MAX_TIMESTAMP_DIGITS) -> bool:
    """Only 0-9: `str.isdigit` also accepts '²' and other digits `int()` refuses; bounded in length too."""
    return 0 < len(value) <= max_digits and value.isascii() and value.isdigit()


def declared_length(headers: Headers) -> int | None:
    """The Content-Length the sender declared; 400 when it is not one plain number (uvicorn checks it too)."""
    values = headers.getlist("content-length")
    if not values:
        return None
    if len(set(values)) != 1 or not ascii_digits(values[0].strip(), max_digits=18):
        raise Refused(400, "bad_content_length", close=True)
    return int(values[0].strip())


class _Deadlines:
    """The body-read deadlines of one event loop, checked by one timer every `TICK_S` while any is pending.

    `asyncio.timeout` costs a timer handle, a heap push and a cancellation per read: a tenth of the guard's
    time per request under load. A deadline is therefore up to `TICK_S` late, which a 10-second one can be.
    """

    TICK_S = 0.05

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.ticking = False

    def add(self, task: asyncio.Task[Any], timeout: float) -> None:
        self.pending[task] = self.loop.time() + timeout
        if not self.ticking:
            self.ticking = True
            self.loop.call_later(self.TICK_S, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        for task in [t for t, deadline in self.pending.items() if deadline <= now]:
            del self.pending[task]
            self.expired.add(task)
            task.cancel()  # delivered where the task waits: in read_capped, which turns it into a 408
        self.ticking = bool(self.pending)
        if self.ticking:
            self.loop.call_later(self.TICK_S, self._tick)


_DEADLINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Deadlines] = weakref.WeakKeyDictionary()


async def read_capped(request: Request, limit: int, timeout: float = BODY_READ_TIMEOUT_S) -> bytes:  # noqa: ASYNC109
    """The body, read as it streams in: 413 past `limit` bytes, 408 when it has not all come within `timeout`."""
    declared = declared_length(request.headers)
    if declared is not None and declared > limit:
        raise Refused(413, "body_too_large", close=True)
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None
    deadlines = _DEADLINES.get(loop) or _DEADLINES.setdefault(loop, _Deadlines(loop))
    deadlines.add(task, timeout)
    try:
        body = await _read(request.receive, limit)
    except asyncio.CancelledError:
        if task not in deadlines.expired:
            raise
        deadlines.expired.discard(task)
        if task.uncancel() > 0:  # cancelled by someone else as well: that one wins
            raise
        raise Refused(408, "body_timeout", close=True) from None
    except ClientDisconnect:
        raise Refused(400, "client_disconnected", close=True) from None
    finally:
        deadlines.pending.pop(task, None)
    request._body = body  # what Request.body() and .stream() answer from now on
    return body


async def _read(receive: Receive, limit: int) -> bytes:
    # The ASGI messages themselves: Request.stream() would add an async generator per request.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refused(413, "body_too_large", close=True)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature over the raw bytes: what `slack_sdk.signature.SignatureVerifier` computes for a
    UTF-8 body, without decoding (a body that is not UTF-8 is then simply a bad signature, never an error)."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return _SIGNATURE_PREFIX + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_failure(secret: str, headers: Headers, body: bytes, now: float) -> str | None:
    """None when the request carries a valid, fresh Slack signature; else why not (a fixed word)."""
    timestamps = headers.getlist(SLACK_TIMESTAMP_HEADER)
    signatures = headers.getlist(SLACK_SIGNATURE_HEADER)
    if len(timestamps) != 1:
        return "missing_timestamp" if not timestamps else "repeated_timestamp"
    if len(signatures) != 1:
        return "missing_signature" if not signatures else "repeated_signature"
    timestamp, given = timestamps[0], signatures[0]
    if not ascii_digits(timestamp):
        return "bad_timestamp"
    if abs(now - int(timestamp)) > SLACK_MAX_SKEW_S:
        return "stale_timestamp"
    digest = given.removeprefix(_SIGNATURE_PREFIX)
    if not given.startswith(_SIGNATURE_PREFIX) or len(digest) != 64 or not set(digest) <= _HEX:
        return "bad_signature"
    expected = slack_signature(secret, timestamp, body)
    return None if hmac.compare_digest(expected.encode(), given.encode()) else "bad_signature"


# Envelope fields Bolt's middleware and matchers index into without checking their type (`body["view"].get`,
# `body.get("event", {}).get`, `actions[0].get`): in anything Slack sends they are objects, or lists of objects.
_OBJECTS = ("event", "view", "team", "enterprise", "message", "previous_message", "container", "item")
_OBJECTS_OR_NULL = ("team", "enterprise")
_LISTS_OF_OBJECTS = ("actions", "authorizations")
_TEXT = ("type", "callback_id", "action_id", "block_id", "command")
# Bolt's own payload accessors, as every listener matcher and error handler calls them.
_BOLT_ACCESSORS = (
    payload_utils.to_event,
    payload_utils.to_message,
    payload_utils.to_command,
    payload_utils.to_action,
    payload_utils.to_options,
    payload_utils.to_shortcut,
    payload_utils.to_view,
    payload_utils.to_step,
)


def slack_shaped(body: dict[str, object]) -> bool:
    """Whether a verified body has the envelope shapes Bolt relies on; a signed body that does not is a 400,
    rather than an exception inside Bolt (a 500)."""
    for key in _OBJECTS:
        value = body.get(key)
        if key in body and not isinstance(value, dict) and not (value is None and key in _OBJECTS_OR_NULL):
            return False
    for key in _LISTS_OF_OBJECTS:
        value = body.get(key)
        if key in body and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return False
    view, event = body.get("view"), body.get("event")
    nested = [v.get("callback_id") for v in (view,) if isinstance(v, dict)]
    nested += [e.get("type") for e in (event,) if isinstance(e, dict)]
    texts = [body.get(key) for key in _TEXT if key in body] + [v for v in nested if v is not None]
    return all(isinstance(t, str) for t in texts)


@dataclass(frozen=True)
class InboundLimits:
    """The body cap and read deadline of `/slack/events`."""

    max_body_bytes: int = MAX_SLACK_BODY_BYTES
    read_timeout_s: float = BODY_READ_TIMEOUT_S


class SlackInbound:
    """`POST /slack/events`: read (capped, with a deadline), verify the signature, then hand the request to Bolt.

    Bolt verifies the signature again (its own middleware stays on: two checks cost one HMAC and keep Bolt safe
    if it is ever mounted without this guard).
    """

    def __init__(
        self,
        bolt: AsyncApp,
        signing_secret: str,
        limits: InboundLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bolt, self.secret, self.clock = bolt, signing_secret, clock
        self.limits = limits or InboundLimits()

    async def handle(self, request: Request) -> Response:
        try:
            bolt_request = await self._verified(request)
        except Refused as refused:
            log.info("slack_request_refused", status=refused.status, reason=refused.reason)
            return refusal(refused)
        return to_starlette_response(await self.bolt.async_dispatch(bolt_request))

    async def _verified(self, request: Request) -> AsyncBoltRequest:
        body = await read_capped(request, self.limits.max_body_bytes, self.limits.read_timeout_s)
        if not self.secret.strip():  # never a key anyone could sign with: every request is refused
            raise Refused(401, "no_signing_secret")
        if (failure := slack_failure(self.secret, request.headers, body, self.clock())) is not None:
            raise Refused(401, failure)
        try:
            # Bolt decodes and parses in the request's constructor, and every matcher (and its error handler)
            # reads the payload through the same accessors: run them once here, so that a signed body Bolt
            # cannot read is a 400 rather than an exception inside Bolt.
            bolt_request = to_async_bolt_request(request, body, {SIGNATURE_VERIFIED: True})
            readable = isinstance(bolt_request.body, dict) and slack_shaped(bolt_request.body)
            for accessor in _BOLT_ACCESSORS if readable else ():
                accessor(bolt_request.body)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
            readable = False
        if not readable:
            raise Refused(400, "unreadable_body")
        return bolt_request
