"""Crash points for chaos tests: `MAKERIGHT_FAILPOINT=<name>` kills the process there.

SIGKILL rather than an exception, because the windows being tested are the ones where no
cleanup code gets to run (the platform accepted the reply; our commit never happened).
"""
from __future__ import annotations

import os
import signal

ENV = "MAKERIGHT_FAILPOINT"


def hit(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
