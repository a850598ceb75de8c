"""The HTTP side: a Starlette app (Web API, upload and response URLs) served by uvicorn in its own thread."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from slack_sandbox.models import JSON
from slack_sandbox.webapi import ApiRequest, ApiResult, UndocumentedErrorAnswer

T = TypeVar("T")
TRANSPORT_KEY = "sandbox.transport"  # the connection's asyncio transport, for drop faults
log = logging.getLogger("slack_sandbox")


class _QuietCancelledRequests(logging.Filter):
    """Stopping a server cancels requests still in flight (a "slow" fault, a slow app); uvicorn would
    log each as an application error with a traceback. Those are expected, so drop just them."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


logging.getLogger("uvicorn.error").addFilter(_QuietCancelledRequests())


class Backend(Protocol):
    """What the HTTP layer needs from the sandbox (kept narrow so server.py owns only HTTP)."""

    def handle_api(self, req: ApiRequest) -> ApiResult: ...
    def handle_upload(self, file_id: str, body: bytes) -> tuple[int, str]: ...
    def handle_response_url(self, hook_id: str, payload: Any) -> tuple[int, str]: ...
    def emit_events(self, events: list[JSON]) -> None: ...
    def snapshot(self) -> JSON: ...
    def internal_error(self, message: str) -> None: ...
    def extra_routes(self) -> list[BaseRoute]: ...


class DropConnection(Response):
    """Close the TCP connection without any answer, like a network failure mid-call."""

    def __init__(self) -> None:
        super().__init__(status_code=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = scope.get(TRANSPORT_KEY)
        if transport is not None and hasattr(transport, "close"):
            transport.close()
            # Let uvicorn see the disconnect before we return, or it logs a missing response.
            for _ in range(3):
                await asyncio.sleep(0)
            return
        # Fallback: promise a body and never send it; the server then closes the connection.
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})


class _CaptureTransport:
    """Outermost ASGI layer: remembers uvicorn's transport so a drop fault can close it (HTTP and WebSocket)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = getattr(send, "__self__", None)
        if scope["type"] in ("http", "websocket") and cycle is not None:
            scope = dict(scope)
            scope[TRANSPORT_KEY] = getattr(cycle, "transport", None)
        await self.app(scope, receive, send)


def build_app(backend: Backend) -> ASGIApp:
    async def api(request: Request) -> Response:
        req = ApiRequest(
            method=request.path_params["method"],
            http_verb=request.method,
            headers={k.lower(): v for k, v in request.headers.items()},
            query=list(request.query_params.multi_items()),
            body=await request.body(),
        )
        try:
            result = backend.handle_api(req)
        except UndocumentedErrorAnswer as exc:
            backend.internal_error(str(exc))
            return JSONResponse({"ok": False, "error": "fatal_error"}, status_code=500)
        except Exception as exc:  # a stand-in bug must fail the test, not pass as a Slack outage
            log.exception("stand-in failed on %s", req.method)
            backend.internal_error(f"{req.method}: {type(exc).__name__}: {exc}")
            return JSONResponse({"ok": False, "error": "fatal_error"}, status_code=500)
        if result.events:
            backend.emit_events(result.events)
        if result.drop:
            return DropConnection()
        if result.delay:
            await asyncio.sleep(result.delay)
        return JSONResponse(result.body, status_code=result.status, headers=result.headers)

    async def upload(request: Request) -> Response:
        status, text = backend.handle_upload(request.path_params["file_id"], await request.body())
        return PlainTextResponse(text, status_code=status)

    async def hook(request: Request) -> Response:
        raw = await request.body()
        payload: Any
        try:
            # Slack takes JSON, or (legacy) a form with the JSON in a ``payload`` field.
            if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                payload = json.loads(dict(parse_qsl(raw.decode())).get("payload", "null"))
            else:
                payload = json.loads(raw or b"null")
        except ValueError:
            payload = None
        status, text = backend.handle_response_url(request.path_params["hook_id"], payload)
        return PlainTextResponse(text, status_code=status)

    async def state(request: Request) -> Response:
        return JSONResponse(backend.snapshot())

    app = Starlette(
        routes=[
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/upload/v1/{file_id}", upload, methods=["POST"]),
            Route("/hooks/{kind}/{hook_id:path}", hook, methods=["POST"]),
            Route("/_sandbox/state", state, methods=["GET"]),
            *backend.extra_routes(),  # the live page (bot/sandbox/web)
        ]
    )
    return _CaptureTransport(app)


class AsgiServer:
    """uvicorn serving an ASGI app on a local socket in the *current* event loop, with quick start/stop.

    uvicorn's own ``serve()`` ticks every 0.1 s and sleeps 0.1 s on shutdown; tests start and stop
    many servers, so this drives ``startup()`` directly and closes connections itself. Use it to
    serve the app under test in the test's loop: ``srv = await AsgiServer(app).start()``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sock: socket.socket | None = None,
        ws: str = "wsproto",
    ):
        self.app = app
        self.host = host
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        self._sock = sock
        self.port: int = sock.getsockname()[1]
        # WebSockets (the stand-in's Socket Mode link) through wsproto, pure Python on uvicorn's own h11.
        config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False, ws=ws)
        config.load()
        self._server = uvicorn.Server(config)
        self._server.lifespan = config.lifespan_class(config)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> AsgiServer:
        await self._server.startup(sockets=[self._sock])
        return self

    async def stop(self) -> None:
        server = self._server
        for srv in server.servers:
            srv.close()
        self._sock.close()
        for conn in list(server.server_state.connections):
            conn.shutdown()  # idle keep-alive connections close now, busy ones after their answer
        for _ in range(3):
            await asyncio.sleep(0)
        for task in list(server.server_state.tasks):
            task.cancel()  # a request still in flight (e.g. a "slow" fault) is abandoned
        for conn in list(server.server_state.connections):
            transport = getattr(conn, "transport", None)
            if transport is not None:
                transport.close()
        for srv in server.servers:
            await srv.wait_closed()


class ServerThread:
    """The stand-in's HTTP server in a dedicated thread and event loop, so a slow app cannot stall Slack."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_start: Callable[[], Awaitable[None]] | None = None,
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.port = 0
        self._on_start = on_start
        self._on_stop = on_stop
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.requested_port))
        self.port = sock.getsockname()[1]
        self._ready.clear()
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"slack-sandbox-{self.port}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the Slack stand-in did not start in time")
        if self._error is not None:
            raise RuntimeError("the Slack stand-in failed to start") from self._error

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(sock))
        except BaseException as exc:  # surfaced to start() when it happens before ready
            self._error = exc
            self._ready.set()
        finally:
            # Event retries and other background work end with the stand-in.
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self.loop = None

    async def _serve(self, sock: socket.socket) -> None:
        self._stop = asyncio.Event()
        if self._on_start is not None:
            await self._on_start()
        server = await AsgiServer(self.app, sock=sock).start()
        self.loop = asyncio.get_running_loop()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.stop()
            if self._on_stop is not None:
                await self._on_stop()

    def submit(self, coro: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
        """Run ``coro`` in the stand-in's loop; the result is awaitable from any other loop."""
        if self.loop is None:
            coro.close()
            raise RuntimeError("the Slack stand-in is not running")
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self, timeout: float = 10.0) -> None:
        loop, stop = self.loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
