"""Fault injection: the next N calls of a method answer 429, 500, an error code, drop, or stall."""

from __future__ import annotations

import threading
from dataclasses import dataclass

FAULT_KINDS = frozenset({"429", "500", "drop", "slow", "error"})


@dataclass
class Fault:
    """``drop`` closes the connection before the call takes effect; ``slow`` lets the call take
    effect and then holds the answer for ``delay`` seconds (so a client timeout may retry a done call).
    """

    method: str
    kind: str
    remaining: int
    retry_after: int = 1
    delay: float = 1.0
    error: str = "fatal_error"


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def inject(
        self,
        method: str,
        fault: str,
        *,
        count: int = 1,
        retry_after: int = 1,
        delay: float = 1.0,
        error: str = "fatal_error",
    ) -> Fault:
        if fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r}; use one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        f = Fault(
            method=method, kind=fault, remaining=count, retry_after=retry_after, delay=delay, error=error
        )
        with self._lock:
            self._faults.append(f)
        return f

    def take(self, method: str) -> Fault | None:
        """Consume one use of the oldest fault for ``method`` (or for ``"*"``)."""
        with self._lock:
            for f in self._faults:
                if f.method in (method, "*") and f.remaining > 0:
                    f.remaining -= 1
                    if f.remaining == 0:
                        self._faults.remove(f)
                    return f
            return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(**vars(f)) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
