"""Syncing a source: fetch since the stored cursor, store page by page, then move the cursor.

Connectors list newest first, so the sync point can only move once the whole listing down to
the old cursor is stored: moving it after the first batch would make a crash in the second
skip everything between the old cursor and that batch for ever. Each batch is committed as it
arrives (nothing fetched is held back), and the cursor and the outcome are written after the
last one. A crash or failure mid-way therefore costs one re-fetch, which deduplication makes
harmless, and never a lost review. No transaction is open while the connector talks to the
platform, so the quota counter's own writes never wait on ours (SQLite has one writer).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Review, ReviewError, parse_time
from connectors.errors import ConnectorError, QuotaExhausted, RateLimited
from connectors.text import quote

from .. import intake
from ..policy import Policy
from ..secrets import SecretBox, SecretKeyError
from ..store.db import Database
from ..store.locking import locked
from ..store.models import utcnow
from ..store.reviews import NEW_OUTCOME, UNCHANGED, UPDATED
from .brands import policy_for_source
from .models import SourceRow
from .resolve import connector_for
from .service import get_source

log = logging.getLogger(__name__)

BATCH_SIZE = 100
REJECTED = "rejected"
Progress = Callable[[Iterable[Review], str], AbstractContextManager[Iterable[Review]]]


@dataclass
class SyncResult:
    source: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    cursor: str | None = None
    error: str | None = None
    #: Why the rest waits for a later run (our own quota count), which is not a failure.
    deferred: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def summary(self) -> str:
        counts = f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.rejected:
            counts += f", {self.rejected} rejected"
        if self.deferred:
            return f"{counts}; the rest waits: {self.deferred}"
        return counts if self.ok else f"failed after {counts}: {self.error}"


@contextmanager
def _plain(items: Iterable[Review], _label: str) -> Iterator[Iterable[Review]]:
    yield items


def sync_source(db: Database, source_name: str, policy: Policy, *, box: SecretBox | None = None,
                batch_size: int = BATCH_SIZE, progress: Progress | None = None,
                **connector_options: Any) -> SyncResult:
    """Fetch and store a source's new and edited reviews; the outcome is recorded on the source.

    Platform, key and storage failures are returned in `SyncResult.error` (and stored as the
    source's last error) so a worker moves on to the next source; an unknown source name raises
    `SourceError`. `connector_options` reach the connector (a `requests` session, a fake sleep).
    """
    connector, failure = None, None
    with db.session() as session:
        row = get_source(session, source_name)
        source_id, cursor = row.id, row.cursor
        # Classified with the lexicons of the policy this source follows.
        policy = policy_for_source(session, source_name, policy)
    try:
        connector = connector_for(source_name, db, box=box, **connector_options)
    except (SecretKeyError, ValueError) as exc:
        failure = exc
    result = SyncResult(source_name, cursor=cursor)
    if connector is None:
        return _finish(db, source_id, result, failure)
    door = intake.Door(f"sync:{source_name}", answerable=type(connector).answerable)
    newest, newest_at = cursor, parse_time(cursor, "cursor")
    counts = {NEW_OUTCOME: 0, UPDATED: 0, UNCHANGED: 0, REJECTED: 0}

    batch: list[Review] = []
    storing = False

    def store() -> None:
        nonlocal storing
        storing = True
        classified = intake.classify(_admissible(batch, counts), policy)
        with db.session() as session:
            for stored in intake.store(session, classified, door):
                counts[stored.outcome] += 1
        batch.clear()
        storing = False

    try:
        with (progress or _plain)(connector.fetch(cursor), f"Syncing {source_name}") as stream:
            for review in stream:
                mark = connector.cursor_of(review)
                mark_at = parse_time(mark, "cursor")
                if mark_at is not None and (newest_at is None or mark_at > newest_at):
                    newest, newest_at = mark, mark_at
                batch.append(replace(review, source=source_name))
                if len(batch) >= batch_size:
                    store()
            store()
    except Exception as exc:  # any failure is this source's outcome, recorded, not a crash
        if batch and not storing:
            # The platform failed mid-listing (a quota, a 5xx): keep what it already sent, so
            # the calls it cost are not spent again. The cursor still stays put.
            try:
                store()
            except Exception:
                log.exception("storing the reviews fetched from %s before it failed",
                              source_name)
        _count(result, counts)
        return _finish(db, source_id, result, exc)
    _count(result, counts)
    result.cursor = newest
    return _finish(db, source_id, result, None)


def _admissible(batch: list[Review], counts: dict[str, int]) -> Iterator[Review]:
    """The batch through the same checks as any other way in, each review once.

    A listing can show a review twice when new ones arrive between pages; the first (newest)
    sighting is kept, so the repeat is not stored as the customer editing it. A review that
    breaks the format (a platform sending NUL, say) is logged and counted, and the rest of the
    sync goes on: nothing a retry could fix.
    """
    seen: set[tuple[str, str]] = set()
    for review in batch:
        try:
            review = review.validated()
        except ReviewError as exc:
            counts[REJECTED] += 1
            log.warning("review %s from %s refused: %s", quote(review.external_id),
                        quote(review.source), quote(exc))
            continue
        key = (review.platform, review.external_id)
        if key not in seen:
            seen.add(key)
            yield review


def _count(result: SyncResult, counts: dict[str, int]) -> None:
    result.new, result.updated = counts[NEW_OUTCOME], counts[UPDATED]
    result.unchanged, result.rejected = counts[UNCHANGED], counts[REJECTED]


def _finish(db: Database, source_id: int, result: SyncResult,
            error: BaseException | None) -> SyncResult:
    """Record the outcome; only a complete run moves the cursor."""
    now = utcnow()
    if isinstance(error, QuotaExhausted):
        # Our own count of the platform's quota said stop: what was fetched is stored, the
        # cursor stays, and the next run starts when the quota allows. Nothing failed.
        result.deferred = _describe(error)
    elif error is not None:
        if not isinstance(error, (ConnectorError, SecretKeyError, ValueError)):
            log.exception("sync of source %s failed", result.source, exc_info=error)
        result.error = _describe(error)
    with db.session() as session:
        row = session.get(SourceRow, source_id)
        if row is None:
            return result
        row.last_sync_at = now
        row.last_sync_result = (result.summary if result.deferred else
                                "ok: " + result.summary if result.ok else "failed")[:200]
        row.last_sync_error = result.error
        row.schedule_after(now)
        if result.ok and not result.deferred:
            row.cursor = result.cursor
        if isinstance(error, RateLimited) and error.retry_after:
            row.next_sync_at = max(row.next_sync_at, now + timedelta(seconds=error.retry_after))
    return result


def _describe(error: BaseException) -> str:
    """One line for people; connector and key errors are written never to contain secrets."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return (text or type(error).__name__)[:1000]


def due_sources(session: Session, now: datetime, *, lock: bool = False,
                limit: int | None = None) -> list[SourceRow]:
    """Enabled sources whose next sync time has come, most overdue first.

    With `lock`, rows are selected FOR UPDATE SKIP LOCKED (PostgreSQL) so concurrent workers
    each take different sources; see `claim_due_sources`.
    """
    query = (select(SourceRow).where(SourceRow.enabled.is_(True), SourceRow.next_sync_at <= now)
             .order_by(SourceRow.next_sync_at, SourceRow.id))
    if limit is not None:
        query = query.limit(limit)
    if lock:
        query = locked(query, session, skip_locked=True)
    return list(session.scalars(query))


def claim_due_sources(db: Database, now: datetime, limit: int | None = None) -> list[str]:
    """Names of due sources, each pushed one interval ahead so no other worker claims it too."""
    with db.session() as session:
        rows = due_sources(session, now, lock=True, limit=limit)
        for row in rows:
            row.schedule_after(now)
        return [row.name for row in rows]
