"""The worker loop: run its steps, tick after tick, until told to stop.

Stopping is cooperative: a stop request (SIGTERM, SIGINT, `WorkerHandle.stop`) sets an event
that steps check between items, so the item in hand (a platform write above all) is finished
and recorded before the loop exits. Leases cover the case where a process dies regardless.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..policy import Policy, load_policy
from ..store.db import Database
from .config import PipelineSettings
from .logs import event
from .registry import ConnectorResolver, Step, StepContext, no_resolver, registered_steps


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(self, db: Database, policy: Policy, *, name: str | None = None,
                 concurrency: int | None = None, resolve: ConnectorResolver | None = None,
                 settings: PipelineSettings | None = None, steps: Sequence[Step] | None = None,
                 drafter: Any = None):
        self.name = name or default_name()
        settings = settings or PipelineSettings()
        # None: the settings' posting concurrency (MAKERIGHT_WORKER_POST_CONCURRENCY, default 4).
        lanes = settings.post_concurrency if concurrency is None else concurrency
        self.context = StepContext(db=db, policy=policy, worker=self.name, settings=settings,
                                   resolve=resolve or no_resolver, concurrency=max(1, lanes),
                                   drafter=drafter)
        self._steps = list(steps) if steps is not None else None
        self._last_run: dict[str, float] = {}

    @property
    def stopping(self) -> bool:
        return self.context.stop.is_set()

    def stop(self) -> None:
        self.context.stop.set()

    def steps(self) -> list[Step]:
        return self._steps if self._steps is not None else registered_steps()

    def tick(self) -> dict[str, int]:
        """Run each due step once; what each handled. A failing step is logged and skipped."""
        counts: dict[str, int] = {}
        for step in self.steps():
            if self.stopping:
                break
            now = time.monotonic()
            if step.every and now - self._last_run.get(step.name, -step.every) < step.every:
                continue
            self._last_run[step.name] = now
            try:
                counts[step.name] = step.run(self.context)
            except Exception as exc:  # noqa: BLE001  a broken step must not stop the others
                event("step.error", logging.ERROR, worker=self.name, step=step.name,
                      error=f"{exc.__class__.__name__}: {exc}")
                counts[step.name] = 0
        return counts

    def run(self, *, once: bool = False) -> dict[str, int]:
        """Tick until stopped; with `once`, until a tick finds nothing left to do."""
        totals: dict[str, int] = {}
        event("worker.start", worker=self.name, concurrency=self.context.concurrency,
              steps=",".join(s.name for s in self.steps()))
        while not self.stopping:
            counts = self.tick()
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
            if not any(counts.values()):
                if once:
                    break
                self.context.stop.wait(self.context.settings.idle_seconds)
        event("worker.stop", worker=self.name,
              **{key: value for key, value in totals.items() if value})
        return totals


@dataclass
class WorkerHandle:
    """A worker running in a background thread (`makeright serve`); stop it on shutdown."""

    worker: Worker
    thread: threading.Thread
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self, timeout: float | None = 30.0) -> bool:
        """Ask the worker to finish its item in hand and exit; True once it has."""
        self.worker.stop()
        self.thread.join(timeout)
        return not self.thread.is_alive()


def start_background_worker(app_or_db: Any, policy: Policy | None = None, *,
                            name: str | None = None, concurrency: int | None = None,
                            resolve: ConnectorResolver | None = None,
                            settings: PipelineSettings | None = None,
                            drafter: Any = None,
                            steps: Sequence[Step] | None = None) -> WorkerHandle:
    """Start a worker thread for a Flask app (its database and policy) or a Database."""
    if isinstance(app_or_db, Database):
        db = app_or_db
    else:
        db = app_or_db.extensions["makeright.db"]
        if policy is None:
            policy = load_policy(app_or_db.config.get("POLICY_DIR"))
    worker = Worker(db, policy or load_policy(), name=name or f"{default_name()}/serve",
                    concurrency=concurrency, resolve=resolve, settings=settings, drafter=drafter,
                    steps=steps)
    handle = WorkerHandle(worker, threading.Thread())

    def target() -> None:
        handle.totals.update(worker.run())

    handle.thread = threading.Thread(target=target, name="makeright-worker", daemon=True)
    handle.thread.start()
    return handle
