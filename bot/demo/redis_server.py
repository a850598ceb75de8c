"""The demo's Redis: a private redis-server on a free port (the default), or a database the user names.

Nothing else is touched: the demo never flushes a database it was not given. A named database is flushed
before each scenario; the private server lives in the demo's temporary folder and is stopped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import re
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.demo.errors import DemoError, describe

INSTALL_HINT = (
    "run scripts/setup or apt-get install redis-server "
    "(or name a Redis database the demo may flush with --redis-url)"
)
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class DemoRedis:
    url: str  # what the bot connects to
    shown: str  # what the transcript says (no password)
    named: bool  # the user named this database: flushed before each scenario

    async def reset(self) -> None:
        """An empty database for the next scenario."""
        client = aioredis.Redis.from_url(self.url)
        try:
            await asyncio.wait_for(client.flushdb(), 5)
        finally:
            await client.aclose()


def hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _answers(url: str) -> BaseException | None:
    """None when Redis at `url` answers PING, else what went wrong."""
    client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        await asyncio.wait_for(client.ping(), 3)
    except (RedisError, OSError, TimeoutError) as exc:
        return exc
    finally:
        await client.aclose()
    return None


async def named_redis(url: str) -> DemoRedis:
    """The database the user named, if it answers (it is flushed before each scenario)."""
    shown = hide_password(url)
    todo = "start that Redis, correct --redis-url / HANDOFF_DEMO_REDIS_URL, or leave both unset to use a private redis-server"
    try:
        client = aioredis.Redis.from_url(url)
    except ValueError as exc:
        raise DemoError(f"could not use Redis at {shown}: {describe(exc)}", todo) from exc
    db = client.connection_pool.connection_kwargs.get("db", 0)
    await client.aclose()
    problem = await _answers(url)
    if problem is not None:
        raise DemoError(f"could not reach Redis at {shown}: {describe(problem)}", todo) from problem
    return DemoRedis(url=url, shown=f"{shown} (database {db}, which you named: flushed)", named=True)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


_LOG_PREFIX = re.compile(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [#*.-] ")


def _log_lines(log: Path) -> list[str]:
    """redis-server's own lines, without their pid/time prefix."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return []
    return [_LOG_PREFIX.sub("", line).strip() for line in text.splitlines() if line.strip()]


def _dies_with_us() -> Callable[[], None] | None:
    """On Linux, the child gets SIGTERM when the demo dies, even by SIGKILL (no redis-server left behind)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def in_child() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))

    return in_child


async def _spawn(binary: str, folder: Path) -> tuple[asyncio.subprocess.Process, int]:
    """Start redis-server on a free port; a port taken in between is retried on another one."""
    log = folder / "redis-server.log"
    last = "did not start"
    for _ in range(3):
        port = free_port()
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the demo, which stops it after the bot
                preexec_fn=_dies_with_us(),
            )
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + START_TIMEOUT
            while loop.time() < deadline and proc.returncode is None:
                if await _answers(f"redis://127.0.0.1:{port}/0") is None:
                    return proc, port
                await asyncio.sleep(0.05)
        except BaseException:
            await _stop(proc)
            raise
        alive = proc.returncode is None
        await _stop(proc)
        if alive:
            raise DemoError(
                f"could not start Redis: redis-server did not answer on 127.0.0.1:{port} within {START_TIMEOUT:.0f} s",
                f"see whether `{binary} --port {port}` starts by hand, or name a database with --redis-url",
            )
        lines = _log_lines(log)
        last = f"exited: {lines[-1]}" if lines else f"exited with status {proc.returncode}"
        if not any("in use" in line for line in lines):
            break
    raise DemoError(f"could not start Redis: redis-server {last}", INSTALL_HINT)


@contextlib.asynccontextmanager
async def private_redis(folder: Path) -> AsyncIterator[DemoRedis]:
    """A redis-server of our own in `folder`, on a free port of 127.0.0.1, stopped on the way out."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise DemoError("could not start Redis: redis-server is not installed", INSTALL_HINT)
    proc, port = await _spawn(binary, folder)
    try:
        yield DemoRedis(
            url=f"redis://127.0.0.1:{port}/0",
            shown=f"a private redis-server on 127.0.0.1:{port} in {folder}, removed at the end",
            named=False,
        )
    finally:
        await _stop(proc)


@contextlib.asynccontextmanager
async def demo_redis(named: str | None, folder: Path) -> AsyncIterator[DemoRedis]:
    """The named database if there is one, else a private redis-server. Nothing here catches the body's errors."""
    if named:
        yield await named_redis(named)
        return
    async with private_redis(folder) as server:
        yield server
