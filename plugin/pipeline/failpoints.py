"""Crash points for chaos tests: a process armed with `arm(name)` kills itself there.

SIGKILL rather than an exception, because the windows being tested are the ones where no
cleanup code gets to run (the platform accepted the reply; our commit never happened).

Nothing in plugin/ arms a failpoint and no setting does: only a test harness calls `arm`
(tests/pipeline/run_worker.py, from its own command line), so no variable left in a production
environment can make a worker kill itself. tests/test_settings.py checks that plugin/ never
calls `arm`.
"""
from __future__ import annotations

import os
import signal

_armed: str | None = None


def arm(name: str | None) -> None:
    """Kill this process when it reaches the failpoint `name` (None disarms)."""
    global _armed
    _armed = name


def hit(name: str) -> None:
    if _armed is not None and _armed == name:
        os.kill(os.getpid(), signal.SIGKILL)
