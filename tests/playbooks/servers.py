"""A small threaded HTTP server for tests: routes answering recorded payloads, slowly or failing on demand."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str  # percent-decoded
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict or list: JSON; str: text; bytes: as is
    delay: float = 0.0  # seconds to wait before answering (a slow source)
    headers: dict[str, str] = field(default_factory=dict)


Route = Reply | Callable[[Request], Reply]


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 makes the 6th simultaneous connect wait for a SYN retry (1 s).
    request_queue_size = 128
    daemon_threads = True


class LocalServer:
    """Serves registered routes on 127.0.0.1 and records every request and the peak of concurrent ones."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, path: str, reply: Route) -> None:
        """`path` is matched decoded; a trailing `*` matches any path with that prefix."""
        self.routes[(method, path)] = reply

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _find(self, method: str, path: str) -> Route | None:
        if (method, path) in self.routes:
            return self.routes[(method, path)]
        prefixed = [(p, r) for (m, p), r in self.routes.items() if m == method and p.endswith("*")]
        for prefix, reply in sorted(prefixed, key=lambda pr: -len(pr[0])):
            if path.startswith(prefix[:-1]):
                return reply
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            route = self._find(request.method, request.path)
            reply = (
                Reply(404, {"error": f"no route {request.method} {request.path}"})
                if route is None
                else (route if isinstance(route, Reply) else route(request))
            )
            if reply.delay:
                time.sleep(reply.delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        body = reply.body
        if isinstance(body, dict | list) or body is None:
            payload, kind = json.dumps(body if body is not None else {}).encode(), "application/json"
        elif isinstance(body, str):
            payload, kind = body.encode(), "text/plain"
        else:
            payload, kind = body, "application/octet-stream"
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", kind)
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first, as a test of a hung endpoint means it to

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._serve(self)

            def do_POST(self) -> None:
                server._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

        return Handler


class Sequence:
    """A route that answers its replies in turn, then repeats the last: e.g. 503, 503, then 200."""

    def __init__(self, *replies: Reply) -> None:
        self._replies = list(replies)
        self._lock = threading.Lock()
        self.calls = 0

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            reply = self._replies[min(self.calls, len(self._replies) - 1)]
            self.calls += 1
        return reply
