"""Counting LLM tokens per UTC day, so a daily ceiling can stop new LLM drafting.

The ledger is a parameter: in memory for one process (tests, the bench, a one-off CLI run) or
the database (`plugin.drafting.usage.DatabaseLedger`) so every worker shares one count. The check
is made before each draft, so up to `concurrency` drafts already in flight may finish past the
ceiling; the overshoot is bounded by one batch window.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Protocol


def utc_today() -> date:
    return datetime.now(UTC).date()


class UsageLedger(Protocol):
    def used_today(self) -> int: ...

    def add(self, model: str, prompt_tokens: int, completion_tokens: int) -> None: ...


class MemoryLedger:
    def __init__(self, today: Callable[[], date] = utc_today):
        self.today = today
        self._lock = threading.Lock()
        self._days: dict[tuple[date, str], list[int]] = {}

    def add(self, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            row = self._days.setdefault((self.today(), model), [0, 0, 0])
            row[0] += prompt_tokens
            row[1] += completion_tokens
            row[2] += 1

    def used_today(self) -> int:
        day = self.today()
        with self._lock:
            return sum(p + c for (d, _), (p, c, _n) in self._days.items() if d == day)
