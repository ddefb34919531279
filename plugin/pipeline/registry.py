"""What a worker step is, and the steps a worker runs.

A worker tick runs its steps in order. Features owned elsewhere (syncing sources, delivering
outbound events) are handed to the worker as steps by `plugin.runtime`, which keeps the
dependency one way; nothing is registered by importing a module. Order numbers: sync 10,
draft 20, auto-approve 30, reap 35, post 40, publication checks 45, event delivery 60.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.base import Connector, Review

from ..drafting import Drafter
from ..policy import Policy
from ..store.db import Database
from .config import PipelineSettings

ConnectorResolver = Callable[[Review], Connector]


@dataclass
class StepContext:
    """What a step gets each tick; `stop` is set when the worker should finish up."""

    db: Database
    policy: Policy
    worker: str
    settings: PipelineSettings
    resolve: ConnectorResolver
    concurrency: int = 1
    stop: threading.Event = field(default_factory=threading.Event)
    drafter: Drafter | None = None


StepFn = Callable[[StepContext], int]


@dataclass(frozen=True)
class Step:
    """`run` returns how many items it handled; zero from every step means the worker is idle.

    `every` throttles a step to at most one run per that many seconds (a sync that is due
    hourly need not ask every tick).
    """

    name: str
    run: StepFn
    order: int = 50
    every: float = 0.0


_STEPS: dict[str, Step] = {}
_LOCK = threading.Lock()


def register_step(name: str, run: StepFn, *, order: int = 50, every: float = 0.0) -> Step:
    """Add (or replace, by name) a step beside the pipeline's own, for every worker built after.

    Called explicitly by whoever extends the worker; no module calls it when imported."""
    step = Step(name, run, order, every)
    with _LOCK:
        _STEPS[name] = step
    return step


def unregister_step(name: str) -> None:
    with _LOCK:
        _STEPS.pop(name, None)


def registered_steps() -> list[Step]:
    """The pipeline's own steps and those registered beside them, in the order a tick runs."""
    from .steps import PIPELINE_STEPS

    with _LOCK:
        extra = dict(_STEPS)
    steps = {step.name: step for step in PIPELINE_STEPS} | extra
    return sorted(steps.values(), key=lambda s: (s.order, s.name))


def no_resolver(review: Review) -> Connector:
    """The resolver of a worker that was given none: it can draft, but posts nowhere."""
    raise LookupError(f"no connector is configured for {review.platform} source "
                      f"{review.source or '(unnamed)'}")
