"""Per-token, per-method rate tiers and chat.postMessage's per-channel limit, as token buckets."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from slack_sandbox.clock import SandboxClock

TIER_PER_MINUTE: dict[str, float] = {"t1": 1, "t2": 20, "t3": 50, "t4": 100}


@dataclass
class RateLimitConfig:
    """Off by default so functional tests never see 429; conformance tests switch it on.

    ``burst`` is a bucket's capacity per tier (default: one minute's allowance at once, then the
    steady rate); chat.postMessage allows ``post_message_per_second`` per channel with a small burst.
    """

    enabled: bool = False
    per_minute: dict[str, float] = field(default_factory=lambda: dict(TIER_PER_MINUTE))
    burst: dict[str, float] = field(default_factory=dict)
    post_message_per_second: float = 1.0
    post_message_burst: float = 3.0

    def capacity(self, tier: str) -> float:
        return max(1.0, self.burst.get(tier, self.per_minute[tier]))


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, clock: SandboxClock, config: RateLimitConfig | None = None) -> None:
        self.clock = clock
        self.config = config or RateLimitConfig()
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self._lock = threading.Lock()

    def configure(
        self,
        *,
        enabled: bool | None = None,
        per_minute: Mapping[str, float] | None = None,
        burst: Mapping[str, float] | None = None,
        post_message_per_second: float | None = None,
        post_message_burst: float | None = None,
    ) -> None:
        with self._lock:
            cfg = self.config
            if enabled is not None:
                cfg.enabled = enabled
            if per_minute:
                cfg.per_minute.update(per_minute)
            if burst:
                cfg.burst.update(burst)
            if post_message_per_second is not None:
                cfg.post_message_per_second = post_message_per_second
            if post_message_burst is not None:
                cfg.post_message_burst = post_message_burst
            self._buckets.clear()

    def _take(self, key: tuple[str, ...], per_second: float, capacity: float) -> int | None:
        now = self.clock.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=capacity, updated=now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * per_second)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / per_second))

    def check(self, token: str, method: str, tier: str | None, channel: str | None = None) -> int | None:
        """None if the call may proceed (and is counted), else the Retry-After in whole seconds."""
        with self._lock:
            cfg = self.config
            if not cfg.enabled:
                return None
            if method == "chat.postMessage":
                if channel is None:
                    return None
                return self._take(
                    ("post", channel), cfg.post_message_per_second, max(1.0, cfg.post_message_burst)
                )
            if tier not in cfg.per_minute:
                return None  # t5 "special" methods such as auth.test are effectively unlimited
            return self._take((token, method), cfg.per_minute[tier] / 60.0, cfg.capacity(tier))
