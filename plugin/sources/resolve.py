"""Which connector speaks for a source: the bundled demo source, or a configured one."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Connector
from connectors.demo import DemoConnector

from ..secrets import SecretBox, load_box
from ..store.db import Database, instance_path
from .models import SourceRow
from .quota import SessionScope, within
from .service import SourceError, build_connector

DEMO_SOURCE = "demo"
DEMO_REPLIES = "demo_replies.jsonl"


def demo_reviews_file() -> Path:
    return Path(str(files("plugin") / "data" / "demo_reviews.jsonl"))


def demo_connector(instance: Path, reviews: Path | None = None) -> DemoConnector:
    """The demo source: bundled reviews in, replies appended to a file in the instance folder."""
    return DemoConnector({"reviews": str(reviews or demo_reviews_file()),
                          "replies": str(Path(instance) / DEMO_REPLIES)})


def connector_for(source: str, db: Database, *, instance: Path | None = None,
                  session: Session | None = None, box: SecretBox | None = None,
                  **options: Any) -> Connector:
    """The connector of the source named `source`, for every caller: the web queue, the REST
    API, the Pub/Sub push, sync and the worker's poster.

    The bundled demo source lives in the instance folder; every other source is a configured
    row whose connector class comes from the registry. With `session`, the row is read and
    quota calls are counted in it, so the caller's commit keeps them and a single-writer
    SQLite never waits on itself; without, each quota call commits on its own.
    `options` reach the connector (a `requests` session, a fake sleep).

    Raises `SourceError` for a source that is not configured, `SecretKeyError` when the keys
    cannot open its secrets, and `ValueError` for settings its connector refuses.
    """
    if source == DEMO_SOURCE:
        return demo_connector(instance or instance_path())
    if session is not None:
        row = session.scalar(select(SourceRow).where(SourceRow.name == source))
        scope: SessionScope = within(session)
    else:
        with db.session() as own:
            row = own.scalar(select(SourceRow).where(SourceRow.name == source))
            if row is not None:
                own.expunge(row)
        scope = db.session
    if row is None:
        raise SourceError(f"source {source!r} is not configured; add it with "
                          "`makeright source add`")
    return build_connector(row, box or load_box(), scope, **options)
