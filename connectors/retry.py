"""When to try again: the one reading of `Retry-After` and the one jittered backoff.

Connectors, the pipeline, outbound webhooks and the LLM client all retry; they differ in how
long they wait (seconds in process, hours on a row), not in how a wait is worked out, so the
formulas live here, below every caller.

The backoff is "full jitter" (Brooker, "Exponential Backoff and Jitter", AWS Architecture Blog,
2015): after the n-th failure the wait is drawn uniformly from

    [floor, max(floor, min(cap, base * 2 ** (n - 1)))]

so the window doubles up to `cap`, and clients that failed together spread out instead of
retrying in step. `floor` keeps a minimum pause; with `floor=0` it is tenacity's
`wait_random_exponential(multiplier=base, max=cap)`. A fixed schedule (outbound webhooks) is
jittered by `jittered`: the step times a factor drawn from [1 - spread, 1 + spread].
"""
from __future__ import annotations

import math
import random
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState
from tenacity.wait import wait_base

#: Doubling stops here; 2**60 times any base is past every cap a caller could mean.
MAX_DOUBLINGS = 60


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110).

    The one reading of the header for connectors, outbound webhooks and the LLM client: a
    negative or past value means now, a date without a zone is UTC, anything else is None.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def exponential_window(attempt: int, base: float, cap: float) -> float:
    """`base * 2 ** (attempt - 1)`, at most `cap`; attempts below 1 count as the first."""
    doublings = min(max(attempt - 1, 0), MAX_DOUBLINGS)
    return min(cap, base * 2 ** doublings)


def backoff(attempt: int, *, base: float, cap: float, floor: float = 0.0,
            rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempt`-th failure: full jitter, see the module's formula."""
    high = max(floor, exponential_window(attempt, base, cap))
    return (rng or random).uniform(floor, high)


def jittered(seconds: float, spread: float, rng: random.Random | None = None) -> float:
    """`seconds` times a factor drawn from [1 - spread, 1 + spread]."""
    return seconds * (rng or random).uniform(1 - spread, 1 + spread)


class wait_backoff(wait_base):
    """`backoff` as a tenacity wait, counting tenacity's attempts."""

    def __init__(self, base: float, cap: float, floor: float = 0.0):
        self.base = base
        self.cap = cap
        self.floor = floor

    def __call__(self, retry_state: RetryCallState) -> float:
        return backoff(retry_state.attempt_number, base=self.base, cap=self.cap,
                       floor=self.floor)
