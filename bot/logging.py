"""Structured logs: JSON when not on a terminal, readable on one; secrets are scrubbed from every line.

One stderr handler on the root logger renders everything with structlog: our own structlog events and the
standard-library records of the libraries (Bolt, slack_sdk, uvicorn, apscheduler, httpx, asyncio, `warnings`),
so with JSON output every line is one JSON object with the same keys (`event`, `level`, `logger`, `timestamp`).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import types
from collections.abc import Iterable, MutableMapping
from typing import IO, Any

import structlog

from playbooks.redaction import secret_pattern, url_credentials

_SECRETS: set[str] = set()
# The pattern of every form of the secrets above, and the (set, size, registration) it was built for: rebuilt
# when any of them changes (a test may put another set in place of _SECRETS).
_COMPILED: tuple[tuple[int, int, int], re.Pattern[str] | None] = ((0, 0, 0), None)
_REGISTRATIONS = [0]
_LOCK = threading.Lock()  # registration happens on the loop while a worker thread may be logging


def register_secrets(values: Iterable[str]) -> None:
    """Values that must never appear in a log line (tokens, signing secret, webhook secrets).

    Each is scrubbed in every encoding (percent-encoded, JSON-escaped, base64 alone or inside a longer base64
    text); a URL's password, and its `user:password`, are registered as secrets of their own.
    """
    given = {v for v in values if v and len(v) >= 6}
    with _LOCK:
        before = len(_SECRETS)
        _SECRETS.update(given | {part for v in given for part in url_credentials(v) if len(part) >= 6})
        if len(_SECRETS) != before:
            _REGISTRATIONS[0] += 1


def _pattern() -> re.Pattern[str] | None:
    global _COMPILED
    secrets = _SECRETS
    key = (id(secrets), len(secrets), _REGISTRATIONS[0])
    if _COMPILED[0] != key:
        with _LOCK:
            copied = set(secrets)
        _COMPILED = (key, secret_pattern(copied))
    return _COMPILED[1]


def scrub(text: str) -> str:
    pattern = _pattern()
    return text if pattern is None else pattern.sub("[redacted]", text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_value(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_scrub_value(v) for v in value)
    return value


def _scrub_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if not key.startswith("_"):  # `_record` and `_from_structlog` belong to ProcessorFormatter
            event[key] = _scrub_value(value)
    return event


class _Scrubbed:
    """The renderer, then the scrubber over the whole rendered line (what a value's repr() may have let through)."""

    def __init__(self, renderer: Any) -> None:
        self.renderer = renderer

    def __call__(self, logger: Any, name: str, event: MutableMapping[str, Any]) -> str:
        return scrub(str(self.renderer(logger, name, event)))


_BOLT_BAD_SIGNATURE = re.compile(
    r"^Invalid request signature detected \(signature: (.*?), timestamp: (.*?), body: "
)


def _foreign_fields(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Library records: fields from the arguments we know, and no request body or URL query in the line."""
    args = event.pop("positional_args", ())
    record = event.get("_record")
    name = record.name if record is not None else ""
    if name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        event.update(client=args[0], method=args[1], path=args[2], status=args[4])
    elif name == "httpx" and isinstance(args, tuple) and len(args) == 5:
        # Query strings may carry API keys (a playbook's `?api_key=${KEY}`): log the URL without its query.
        url = str(args[1])
        bare = url.split("?", 1)[0] + ("?…" if "?" in url else "")
        event.update(event=f"HTTP Request: {args[0]} {bare}", method=args[0], url=bare, status=args[3])
    elif name.startswith("slack_bolt") and isinstance(event.get("event"), str):
        # Bolt logs a badly signed request's whole body at INFO: keep the fact, drop the (untrusted) body.
        bad = _BOLT_BAD_SIGNATURE.match(event["event"])
        if bad:
            event.update(
                event="Invalid request signature detected", signature=bad[1], request_timestamp=bad[2]
            )
    return event


_HANDLER_MARK = "_handoff_log_handler"


def configure(level: str = "info", fmt: str = "auto", *, stream: IO[str] | None = None) -> bool:
    """Route structlog and every standard-library logger through one stderr handler; True when it writes JSON."""
    stream = stream or sys.stderr
    json_output = fmt == "json" or (fmt == "auto" and not stream.isatty())
    numeric = logging.getLevelNamesMapping()[level.upper()]
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    if json_output:
        shared.append(structlog.processors.format_exc_info)  # the console renderer draws tracebacks itself
    shared.append(_scrub_event)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[_foreign_fields, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _Scrubbed(renderer)],
        pass_foreign_args=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for old in list(root.handlers):
        # Ours from an earlier call, or a plain one a library's basicConfig() left on stderr/stdout.
        plain = type(old) is logging.StreamHandler and old.stream in (sys.stderr, sys.stdout)
        if getattr(old, _HANDLER_MARK, False) or plain:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # apscheduler tells every run of every job at INFO ("Running job", "executed successfully"); our reminder
    # events already say what a sweep did, so below debug only its warnings and errors are kept.
    logging.getLogger("apscheduler").setLevel(
        numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    )
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # Had uvicorn installed its own formatters (its default log_config), take them back to the root handler.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # Bolt copies the root level onto each of its loggers when it makes them: let them follow the root again.
    for name, existing in logging.root.manager.loggerDict.items():
        if name.startswith("slack_bolt") and isinstance(existing, logging.Logger):
            existing.setLevel(logging.NOTSET)
    logging.captureWarnings(True)  # warnings.warn() -> the "py.warnings" logger -> this handler
    if json_output:
        _log_uncaught()
    return json_output


def _log_uncaught() -> None:
    """Uncaught exceptions, in the main thread, other threads and finalizers, as log lines rather than raw text."""
    log = logging.getLogger("handoff.uncaught")

    def excepthook(kind: type[BaseException], value: BaseException, tb: types.TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        log.critical("uncaught exception", exc_info=(kind, value, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        where = args.thread.name if args.thread is not None else "?"
        log.error(
            "uncaught exception in thread %s",
            where,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    def unraisable_hook(unraisable: Any) -> None:
        exc = unraisable.exc_value
        info = (type(exc), exc, unraisable.exc_traceback) if exc is not None else None
        log.warning("%s: %r", unraisable.err_msg or "Exception ignored in", unraisable.object, exc_info=info)

    sys.excepthook = excepthook
    threading.excepthook = thread_hook
    sys.unraisablehook = unraisable_hook
