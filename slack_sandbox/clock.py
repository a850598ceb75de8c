"""The stand-in's clock: real time from a chosen start, which tests can advance or freeze."""

from __future__ import annotations

import threading
import time


class SandboxClock:
    """Seconds since the epoch as the stand-in sees them.

    It runs at ``speed`` times real time from ``start`` (default: now) so trigger ids and response
    URLs expire on their own, and ``advance()`` jumps ahead so tests need not sleep. ``frozen=True``
    stops it: only ``advance()`` moves it, which makes message timestamps reproducible.
    """

    def __init__(self, start: float | None = None, *, speed: float = 1.0, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._start = time.time() if start is None else float(start)
        self._origin = time.monotonic()
        self._speed = speed
        self._frozen = frozen
        self._offset = 0.0

    def now(self) -> float:
        with self._lock:
            elapsed = 0.0 if self._frozen else (time.monotonic() - self._origin) * self._speed
            return self._start + elapsed + self._offset

    def advance(self, seconds: float) -> float:
        """Jump ``seconds`` ahead; returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    def freeze(self) -> None:
        now = self.now()
        with self._lock:
            self._start, self._offset, self._frozen = now, 0.0, True

    def unfreeze(self) -> None:
        now = self.now()
        with self._lock:
            self._start, self._offset, self._origin, self._frozen = now, 0.0, time.monotonic(), False

    @property
    def frozen(self) -> bool:
        return self._frozen
