"""Counting calls against a platform quota before the platform counts them for us.

Google Play allows each app 200 review reads per hour and 2,000 replies per day. Hitting the
platform's limit costs the rest of the window, so connectors ask a counter first. The counter is
a protocol so the application can share counts between workers (a database-backed counter);
the in-memory one suits a single process and tests.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class QuotaCounter(Protocol):
    def take(self, kind: str, limit: int, window_seconds: float) -> float:
        """Count one call of `kind` if fewer than `limit` were made in the last `window_seconds`.

        Returns 0 when the call was granted and counted; otherwise the seconds until the oldest
        counted call leaves the window, and nothing is counted.
        """
        ...


class MemoryQuota:
    """A sliding-window log per kind; memory is bounded by the limits themselves."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, kind: str, limit: int, window_seconds: float) -> float:
        with self._lock:
            now = self._clock()
            calls = self._calls.setdefault(kind, deque())
            while calls and calls[0] <= now - window_seconds:
                calls.popleft()
            if len(calls) >= limit:
                return calls[0] + window_seconds - now
            calls.append(now)
            return 0.0
