"""Platform rate limits: read from the platform where it says them, counted where it does not.

App Store Connect reports each API key's budget on every response, `X-Rate-Limit:
user-hour-lim:3500;user-hour-rem:500;`, over a rolling hour
(https://developer.apple.com/documentation/appstoreconnectapi/identifying-rate-limits). The
last figure seen per key is kept for the whole process (connectors are built per job), and a
call is refused before it is sent once fewer than `reserve` requests remain; developers report
429s with budget left when requests run in parallel, hence the reserve.

Google documents per-minute quotas instead and sends no budget header: Business Profile 300
queries per minute per API (https://developers.google.com/my-business/content/limits), Play
3,000 per minute per bucket (https://developers.google.com/android-publisher/quotas). Those are
counted with a `QuotaCounter` over a 60-second window (`per_minute`).
"""
from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import QuotaExhausted
from .quota import QuotaCounter

HOUR = 3600.0
MINUTE = 60.0
_FIELD = re.compile(r"\s*([\w-]+)\s*:\s*(\d+)\s*")


def parse_rate_limit(value: str | None) -> tuple[int, int] | None:
    """(limit, remaining) from an `X-Rate-Limit` header, or None when it has neither."""
    if not value:
        return None
    fields = {}
    for part in value.split(";"):
        match = _FIELD.fullmatch(part)
        if match:
            fields[match.group(1).lower()] = int(match.group(2))
    if "user-hour-lim" not in fields or "user-hour-rem" not in fields:
        return None
    return fields["user-hour-lim"], fields["user-hour-rem"]


@dataclass
class Budget:
    limit: int
    remaining: int
    seen_at: float


class HourlyBudgets:
    """The last `X-Rate-Limit` seen per API key, shared by every connector of the process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._budgets: dict[str, Budget] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._budgets.clear()

    def record(self, key: str, header: str | None) -> None:
        parsed = parse_rate_limit(header)
        if parsed is not None:
            with self._lock:
                self._budgets[key] = Budget(*parsed, self._clock())

    def check(self, key: str, reserve: int, label: str) -> None:
        """Refuse the next call when the budget the platform reported is down to `reserve`.

        In a rolling hour a request counted now frees its place an hour later; without knowing
        when each was made, the wait is one request's share of the hour for every request
        short, and the budget is assumed refilled once an hour has passed since it was seen.
        """
        with self._lock:
            budget = self._budgets.get(key)
            if budget is None:
                return
            age = self._clock() - budget.seen_at
            if age >= HOUR or budget.remaining > reserve:
                return
            missing = reserve + 1 - budget.remaining
            wait = min(HOUR - age, max(MINUTE, missing * HOUR / max(budget.limit, 1)))
        raise QuotaExhausted(
            f"{label}: {budget.remaining} of {budget.limit} requests left this hour (X-Rate-Limit)"
            f"; keeping {reserve} in reserve, the next request waits {math.ceil(wait / 60)} min",
            retry_after=wait)


#: The budgets every App Store connector of this process shares.
BUDGETS = HourlyBudgets()


def per_minute(quota: QuotaCounter, kind: str, limit: int, label: str) -> Callable[[], None]:
    """A `before_request` hook that counts each request against a per-minute quota."""

    def take() -> None:
        wait = quota.take(kind, limit, MINUTE)
        if wait > 0:
            raise QuotaExhausted(f"{label}: {limit} queries a minute used up; the next one in "
                                 f"{math.ceil(wait)} s", retry_after=wait)

    return take
