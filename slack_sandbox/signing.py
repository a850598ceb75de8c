"""Request signing exactly as Slack does it: v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))."""

from __future__ import annotations

import hashlib
import hmac
import time

VERSION = "v0"
MAX_SKEW_SECONDS = 300


def signature(secret: str, timestamp: str, body: str | bytes) -> str:
    raw = body.decode() if isinstance(body, bytes) else body
    base = f"{VERSION}:{timestamp}:{raw}".encode()
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request to the app.

    The timestamp is real wall time, not the sandbox clock: the app checks it against its own clock.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(secret, ts, body)}


def verify(secret: str, timestamp: str, body: str | bytes, sig: str, *, now: float | None = None) -> bool:
    """What a correct app does: reject stale timestamps (replay) and compare in constant time."""
    try:
        skew = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return skew <= MAX_SKEW_SECONDS and hmac.compare_digest(signature(secret, timestamp, body), sig)
