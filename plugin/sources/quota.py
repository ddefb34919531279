"""A platform-quota counter kept in the database, so every worker and every restart shares it.

Google Play allows an app 200 review reads an hour; an in-memory count forgets the calls made
before a restart and cannot see another worker's, and going over costs the rest of the hour.
This implements `connectors.quota.QuotaCounter` as a sliding-window log: one row per counted
call, per source and kind.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..store.locking import locked
from ..store.models import utcnow
from .models import QuotaCallRow, SourceRow

SessionScope = Callable[[], AbstractContextManager[Session]]


@dataclass
class DatabaseQuota:
    """Counts calls of one source; `scope` yields the session each `take` runs in.

    Sync passes a scope that commits on its own (`Database.session`), so a call stays counted
    even if the page it fetched is never stored; the poster passes its own session
    (`within(session)`) so a single-writer SQLite never waits on itself.
    """

    scope: SessionScope
    source_id: int
    clock: Callable[[], datetime] = field(default=utcnow)

    def take(self, kind: str, limit: int, window_seconds: float) -> float:
        with self.scope() as session:
            # Serialises takers of this source on PostgreSQL; SQLite's BEGIN IMMEDIATE already
            # holds the write lock.
            session.execute(locked(select(SourceRow.id).where(SourceRow.id == self.source_id),
                                   session))
            now = self.clock()
            start = now - timedelta(seconds=window_seconds)
            mine = (QuotaCallRow.source_id == self.source_id, QuotaCallRow.kind == kind)
            session.execute(delete(QuotaCallRow).where(*mine, QuotaCallRow.at <= start)
                            .execution_options(synchronize_session=False))
            count, oldest = session.execute(
                select(func.count(QuotaCallRow.id), func.min(QuotaCallRow.at)).where(*mine)).one()
            if count >= limit:
                return max((oldest - start).total_seconds(), 0.001)
            session.add(QuotaCallRow(source_id=self.source_id, kind=kind, at=now))
            session.flush()
            return 0.0


def within(session: Session) -> SessionScope:
    """A scope that reuses a caller's session; the caller's commit keeps the count."""

    @contextmanager
    def scope() -> Iterator[Session]:
        yield session

    return scope
