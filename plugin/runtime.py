"""Connect the other features to the worker: where a review's connector comes from, which
engine drafts, and the steps that sync sources and deliver outbound events.

Everything that starts a worker (`makeright worker`, `makeright serve`, `makeright demo`) calls
`configure` once, so the worker itself knows nothing about sources, webhooks or the LLM.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from connectors.base import Connector, Review

from .outbound.delivery import deliver_due
from .api.idempotency import purge_expired
from .drafting.production import production_drafter
from .policy import load_policy
from .sources.models import SourceRow
from .sources.resolve import DEMO_SOURCE, demo_connector
from .secrets import load_box
from .sources.service import SourceError, build_connector
from .sources.sync import claim_due_sources, sync_source
from .store.db import Database, instance_path
from .store.models import utcnow
from .pipeline.config import PipelineSettings
from .pipeline.registry import ConnectorResolver, StepContext, register_step, set_resolver

SYNC_BATCH = 5


def connector_resolver(db: Database, instance: Path | None = None) -> ConnectorResolver:
    """Find the connector of a review's source; quota calls commit in their own transaction."""
    folder = instance or instance_path()

    def resolve(review: Review) -> Connector:
        if review.source == DEMO_SOURCE:
            return demo_connector(folder)
        with db.session() as session:
            source = session.scalar(select(SourceRow).where(SourceRow.name == review.source))
            if source is None:
                raise SourceError(f"source {review.source!r} is not configured")
            session.expunge(source)
        return build_connector(source, load_box(), db.session)

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


register_step("sync", sync_step, order=10, every=15.0)
register_step("deliver", deliver_step, order=60)
register_step("purge", purge_step, order=90, every=3600.0)


def configure(db: Database, instance: Path | None = None) -> dict[str, Any]:
    """Install the connector lookup; returns the keyword arguments a Worker should get."""
    set_resolver(connector_resolver(db, instance))
    return {"drafter": production_drafter(db)}


def serve_worker(app: Flask, stop: threading.Event) -> None:
    """The worker beside the web server when one machine does everything (`makeright serve`)."""
    from .pipeline.worker import start_background_worker

    db = app.extensions["makeright.db"]
    handle = start_background_worker(db, load_policy(app.config.get("POLICY_DIR") or None),
                                     settings=PipelineSettings.from_env(),
                                     **configure(db, Path(app.instance_path)))
    stop.wait()
    handle.stop()
