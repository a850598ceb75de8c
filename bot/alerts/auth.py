"""Webhook authentication per source: a bearer token or an HMAC-SHA256 signature of the raw body."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from enum import StrEnum

from bot.alerts.config import HANDOFF_SIGNATURE_HEADER, HANDOFF_TIMESTAMP_HEADER, AlertSourceConfig

MAX_TIMESTAMP_DIGITS = 12  # Unix seconds have 10 digits until the year 2286


class AuthFailure(StrEnum):
    """Why a request was refused; logged and counted, never shown with the secret."""

    NO_SECRET = "no_secret_configured"
    MISSING_CREDENTIALS = "missing_credentials"
    BAD_TOKEN = "bad_token"
    BAD_SIGNATURE = "bad_signature"
    MISSING_TIMESTAMP = "missing_timestamp"
    BAD_TIMESTAMP = "bad_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"


def _same(a: bytes, b: bytes) -> bool:
    # Comparing digests keeps the comparison constant-time in the length as well as the content.
    return hmac.compare_digest(hashlib.sha256(a).digest(), hashlib.sha256(b).digest())


def _unix_seconds(value: str) -> bool:
    return 0 < len(value) <= MAX_TIMESTAMP_DIGITS and value.isascii() and value.isdigit()


def bearer_token(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def sign(secret: str, body: bytes, timestamp: str | None = None) -> str:
    """Hex HMAC-SHA256 of the body, or of `timestamp:body` when a timestamp is sent (Grafana's scheme)."""
    message = body if timestamp is None else timestamp.encode() + b":" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    source: AlertSourceConfig, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> AuthFailure | None:
    """None when the request carries the source's credentials; `headers` must be case-insensitive."""
    if source.secret is None or not source.has_secret:
        return AuthFailure.NO_SECRET
    secret = source.secret.get_secret_value()
    if source.auth == "bearer":
        token = bearer_token(headers)
        if token is None:
            return AuthFailure.MISSING_CREDENTIALS
        return None if _same(token.encode(), secret.encode()) else AuthFailure.BAD_TOKEN
    return _verify_signature(source, secret, headers, body, time.time() if now is None else now)


def _verify_signature(
    source: AlertSourceConfig, secret: str, headers: Mapping[str, str], body: bytes, now: float
) -> AuthFailure | None:
    given = headers.get(source.signature_header or HANDOFF_SIGNATURE_HEADER, "").strip()
    if not given:
        return AuthFailure.MISSING_CREDENTIALS
    given = given.removeprefix("sha256=").lower()
    timestamp = headers.get(source.timestamp_header or HANDOFF_TIMESTAMP_HEADER, "").strip() or None
    if timestamp is None and source.require_timestamp:
        return AuthFailure.MISSING_TIMESTAMP
    # ASCII digits only, and a bounded number of them: `str.isdigit` accepts '²', which `int()` refuses.
    if timestamp is not None and not _unix_seconds(timestamp):
        return AuthFailure.BAD_TIMESTAMP
    if not _same(given.encode(), sign(secret, body, timestamp).encode()):
        return AuthFailure.BAD_SIGNATURE
    # Checked after the signature, so that a stale timestamp is only ever reported for a genuine request.
    if timestamp is not None and abs(now - int(timestamp)) > source.max_timestamp_skew_s:
        return AuthFailure.STALE_TIMESTAMP
    return None
