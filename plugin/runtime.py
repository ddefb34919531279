"""Where the parts are wired together, explicitly and in one place.

`build_worker` connects the other features to a worker: where a review's connector comes from,
which engine drafts, and the steps that sync sources, deliver outbound events and purge old
idempotency keys. `install_events` connects outbound events to the state machine. The app
factory, the command line and `makeright serve` call them; importing a module registers nothing,
so what a process does never depends on which modules it happened to import.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Flask

from connectors.base import Connector, Review

from .api.idempotency import purge_expired
from .config import LLMSettings
from .drafting.production import production_drafter
from .outbound import events
from .outbound.delivery import deliver_due
from .pipeline.config import PipelineSettings
from .pipeline.registry import ConnectorResolver, Step, StepContext, registered_steps
from .pipeline.worker import Worker, start_background_worker
from .policy import Policy, load_policy
from .sources.resolve import connector_for
from .sources.sync import claim_due_sources, sync_source
from .store.db import Database, instance_path
from .store.models import utcnow

SYNC_BATCH = 5


def connector_resolver(db: Database, instance: Path | None = None) -> ConnectorResolver:
    """The worker's way to a review's connector: `connector_for` of the review's source, each
    quota call committed in its own transaction."""
    folder = instance or instance_path()

    def resolve(review: Review) -> Connector:
        return connector_for(review.source, db, instance=folder)

    return resolve


def sync_step(ctx: StepContext) -> int:
    names = claim_due_sources(ctx.db, utcnow(), limit=SYNC_BATCH)
    for name in names:
        sync_source(ctx.db, name, ctx.policy)
    return len(names)


def deliver_step(ctx: StepContext) -> int:
    return deliver_due(ctx.db)


def purge_step(ctx: StepContext) -> int:
    with ctx.db.session() as session:
        return purge_expired(session)


# The runtime's own steps around the pipeline's (draft 20 ... publication checks 45).
RUNTIME_STEPS: tuple[Step, ...] = (
    Step("sync", sync_step, order=10, every=15.0),
    Step("deliver", deliver_step, order=60),
    Step("purge", purge_step, order=90, every=3600.0),
)


def install_events() -> None:
    """Record outbound events for every state change in this process (idempotent)."""
    events.install()


def worker_steps() -> list[Step]:
    """Everything a full worker runs, in order: the pipeline's steps and the runtime's."""
    steps = {step.name: step for step in RUNTIME_STEPS}
    steps |= {step.name: step for step in registered_steps()}
    return sorted(steps.values(), key=lambda s: (s.order, s.name))


def worker_parts(db: Database, instance: Path | None = None,
                 llm: LLMSettings | None = None) -> dict[str, Any]:
    """The keyword arguments that make a Worker a full one: connectors, drafter and steps."""
    return {"resolve": connector_resolver(db, instance), "drafter": production_drafter(db, llm),
            "steps": worker_steps()}


def build_worker(db: Database, policy: Policy, settings: PipelineSettings, *,
                 instance: Path | None = None, name: str | None = None,
                 concurrency: int | None = None, llm: LLMSettings | None = None) -> Worker:
    """A worker that syncs, drafts, posts and delivers, with events recorded."""
    install_events()
    return Worker(db, policy, name=name, concurrency=concurrency, settings=settings,
                  **worker_parts(db, instance, llm))


def serve_worker(app: Flask, stop: threading.Event) -> None:
    """The worker beside the web server when one machine does everything (`makeright serve`)."""
    install_events()
    db = app.extensions["makeright.db"]
    settings = app.extensions["makeright.settings"]
    handle = start_background_worker(db, load_policy(app.config.get("POLICY_DIR") or None,
                                                     settings.paths),
                                     settings=PipelineSettings.for_worker(settings.worker),
                                     **worker_parts(db, Path(app.instance_path), settings.llm))
    stop.wait()
    handle.stop()
