"""With LOG_FORMAT=json every line `handoff serve` writes is JSON (the libraries' loggers too), and no secret shows."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
import yaml

import bot.logging as bot_logging
from slack_sandbox import SlackSandbox
from tests.support.bot import SIGNING_SECRET, flush, make_team
from tests.support.reference import fixture

AM_TOKEN = "am-json-logs-token-8c1f2e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _records(text: str, stream: str) -> list[dict[str, Any]]:
    """Every line parsed as one JSON object; the first line that is not fails the test, shown as it is."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"{stream} line {number} is not JSON: {line!r}")
        if not isinstance(record, dict) or "event" not in record or "level" not in record:
            pytest.fail(f"{stream} line {number} is not a log event: {line!r}")
        records.append(record)
    return records


class TestServe:
    async def test_every_line_is_json_and_no_secret_shows(
        self, sb: SlackSandbox, redis_url: str, tmp_path: Path
    ) -> None:
        """`handoff serve` at debug: a slash command, an alert and SIGTERM leave only JSON lines, no secret."""
        await flush(redis_url)
        team = make_team(sb)
        config = {
            "sides": {
                "mlops": {"users": team.ml, "usergroups": [team.ml_group_id], "leads": [team.ml_lead]},
                "dataops": {
                    "users": team.data,
                    "usergroups": [team.data_group_id],
                    "leads": [team.data_lead],
                },
            },
            "triage_channel": team.triage,
            "alerts": {
                "announce_after": "0.2s",
                "sources": {
                    "alertmanager": {
                        "kind": "alertmanager",
                        "auth": "bearer",
                        "secret": "${HANDOFF_AM_TOKEN}",
                    }
                },
            },
        }
        config_path = tmp_path / "handoff.yaml"
        config_path.write_text(yaml.safe_dump(config))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "HANDOFF_", "REDIS_URL", "LOG_"))
        }
        env = {
            **inherited,
            "SLACK_BOT_TOKEN": sb.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": sb.api_url,
            "REDIS_URL": redis_url,
            "HANDOFF_CONFIG": str(config_path),
            "HANDOFF_AM_TOKEN": AM_TOKEN,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "debug",
            "PYTHONWARNINGS": "default",  # warnings are shown (as log lines), not silenced
        }
        out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
        with out_path.open("w") as out, err_path.open("w") as err:
            proc = await asyncio.create_subprocess_exec(
                *[sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=err,
            )
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                deadline = time.monotonic() + 60
                while True:
                    assert proc.returncode is None, f"serve exited {proc.returncode}:\n{err_path.read_text()}"
                    assert time.monotonic() < deadline, f"serve not ready:\n{err_path.read_text()}"
                    try:
                        if (await http.get(f"{base}/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)

                sb.request_url = f"{base}/slack/events"
                ack = await sb.slash_command(team.ml[0], "/incident", "help")
                assert ack.ok, ack

                alert = json.loads((fixture("alerts") / "alertmanager_v4_firing.json").read_text())
                response = await http.post(
                    f"{base}/alerts/alertmanager",
                    json=alert,
                    headers={"Authorization": f"Bearer {AM_TOKEN}"},
                )
                assert response.status_code == 202, response.text
                deadline = time.monotonic() + 30
                while not [c for c in sb.channels() if c.name.startswith("inc-")]:
                    assert time.monotonic() < deadline, f"no incident opened:\n{err_path.read_text()}"
                    await asyncio.sleep(0.1)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        # uvicorn shuts down cleanly, then re-raises the signal it caught: exit 0 or "killed by SIGTERM".
        assert proc.returncode in (0, -signal.SIGTERM), err_path.read_text()

        stdout, stderr = out_path.read_text(), err_path.read_text()
        records = _records(stdout, "stdout") + _records(stderr, "stderr")
        loggers = {str(r.get("logger", "")) for r in records}
        assert "uvicorn.error" in loggers, sorted(loggers)
        assert "uvicorn.access" in loggers, sorted(loggers)
        assert any(name.startswith(("slack_bolt", "slack_sdk")) for name in loggers), sorted(loggers)
        assert any(name.startswith("apscheduler") for name in loggers), sorted(loggers)
        assert any(name.startswith("bot.") for name in loggers), sorted(loggers)  # our own structlog events
        access = [r for r in records if r.get("logger") == "uvicorn.access"]
        assert any(r.get("path") == "/slack/events" and r.get("status") == 200 for r in access), access
        for secret in (sb.bot_token, SIGNING_SECRET, AM_TOKEN):
            assert secret not in stdout + stderr
        assert (
            "`token` will be unused" not in stderr
        )  # Bolt no longer sees SLACK_BOT_TOKEN next to our client


# --- The formatter itself ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _restored_logging() -> Iterator[None]:
    """Whatever bot_logging.configure changes (logging, structlog, hooks) is put back afterwards."""
    root = logging.getLogger()
    touched = [logging.getLogger(n) for n in ("apscheduler", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in (root, *touched)]
    config = structlog.get_config()
    hooks = (sys.excepthook, threading.excepthook, sys.unraisablehook)
    try:
        yield
    finally:
        logging.captureWarnings(False)
        for lg, handlers, level, propagate in saved:
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate
        structlog.configure(**config)
        sys.excepthook, threading.excepthook, sys.unraisablehook = hooks


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """bot.logging configured for JSON into a buffer; no secret registered before the test."""
    monkeypatch.setattr(bot_logging, "_SECRETS", set())
    stream = io.StringIO()
    with _restored_logging():
        assert bot_logging.configure("info", "json", stream=stream)
        yield stream


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return _records(stream.getvalue(), "log")


class TestFormatter:
    def test_stdlib_record_with_a_registered_secret_is_scrubbed(self, json_logs: io.StringIO) -> None:
        """A library's logger message carrying a secret comes out as JSON with the secret redacted."""
        bot_logging.register_secrets(["xoxb-secret-in-a-library-log"])
        logging.getLogger("slack_sdk.web.async_base_client").warning(
            "Sending a request - headers: %s", {"token": "xoxb-secret-in-a-library-log"}
        )
        (line,) = _lines(json_logs)
        assert "xoxb-secret-in-a-library-log" not in json_logs.getvalue()
        assert "[redacted]" in line["event"]
        assert line["logger"] == "slack_sdk.web.async_base_client"
        assert line["level"] == "warning"

    def test_structlog_event_nested_secret_is_scrubbed(self, json_logs: io.StringIO) -> None:
        """Our own events: a secret inside a nested value is redacted too."""
        bot_logging.register_secrets(["hmac-secret-value-42"])
        structlog.get_logger("bot.test").info("alerts.refused", detail={"sig": ["hmac-secret-value-42"]})
        (line,) = _lines(json_logs)
        assert line["detail"] == {"sig": ["[redacted]"]}
        assert line["logger"] == "bot.test"

    def test_exception_and_warning_are_json(self, json_logs: io.StringIO) -> None:
        """A library's exception (traceback included) and a `warnings.warn` are each one JSON line."""
        bot_logging.register_secrets(["secret-in-traceback"])
        try:
            raise RuntimeError("failed with secret-in-traceback")
        except RuntimeError:
            logging.getLogger("apscheduler.executors.default").exception("Job raised")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("something is deprecated", DeprecationWarning, stacklevel=1)
        job, warned = _lines(json_logs)
        assert "RuntimeError: failed with [redacted]" in job["exception"]
        assert warned["logger"] == "py.warnings"
        assert "something is deprecated" in warned["event"]

    def test_bolt_bad_signature_body_and_httpx_query_are_left_out(self, json_logs: io.StringIO) -> None:
        """Bolt's INFO line for a badly signed request drops the body; httpx's request line drops the query."""
        logging.getLogger("slack_bolt.AsyncRequestVerification").info(
            "Invalid request signature detected (signature: v0=abc, timestamp: 1700000000, body: text=private)"
        )
        logging.getLogger("httpx").info(
            'HTTP Request: %s %s "%s %d %s"',
            "GET",
            httpx.URL("https://x.test/a?api_key=k1"),
            "HTTP/1.1",
            200,
            "OK",
        )
        bolt, request = _lines(json_logs)
        assert bolt["event"] == "Invalid request signature detected"
        assert bolt["signature"] == "v0=abc"
        assert "private" not in json_logs.getvalue()
        assert request["url"] == "https://x.test/a?…"
        assert "k1" not in json_logs.getvalue()

    def test_console_format_stays_readable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """LOG_FORMAT=console: the same records, as readable lines (not JSON), secrets scrubbed as well."""
        monkeypatch.setattr(bot_logging, "_SECRETS", set())
        stream = io.StringIO()
        with _restored_logging():
            assert not bot_logging.configure("info", "console", stream=stream)
            bot_logging.register_secrets(["console-secret-77"])
            logging.getLogger("slack_sdk.web").warning("Retrying in %d s", 42)
            structlog.get_logger("bot.test").info(
                "incident.opened", incident_id="INC-1", note="console-secret-77"
            )
        text = stream.getvalue()
        for shown in ("Retrying in 42 s", "incident.opened", "INC-1"):
            assert shown in text
        assert "console-secret-77" not in text
        assert not text.lstrip().startswith("{")


class TestStartupErrors:
    def test_settings_errors_are_json_lines(self) -> None:
        """`handoff serve` with LOG_FORMAT=json and bad settings: exit 2, one JSON line per problem, no value."""
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "HANDOFF_", "REDIS_URL", "LOG_"))
        }
        secret = "not-a-bot-token-but-secret"
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "serve"],
            env={**inherited, "LOG_FORMAT": "json", "SLACK_BOT_TOKEN": secret},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        records = _records(done.stdout, "stdout") + _records(done.stderr, "stderr")
        problems = [r["problem"] for r in records if r["event"] == "startup.invalid"]
        for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "HANDOFF_CONFIG"):
            assert any(p.startswith(var) for p in problems), problems
        assert secret not in done.stdout + done.stderr
