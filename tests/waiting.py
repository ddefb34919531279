"""Waiting for a condition, the one way tests wait.

A fixed sleep is either too short on a busy machine (a flaky test) or too long everywhere else
(a slow suite). Tests poll for what they are waiting for instead, and give up with a message
naming it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], seconds: float, what: str, step: float = 0.01) -> T:
    """Call `condition` until it returns something true, and return that; fail after `seconds`
    saying what did not happen."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting for {what}"
        time.sleep(step)
