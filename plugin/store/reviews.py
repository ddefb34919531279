"""Storing reviews and drafts: deduplication, edit detection and draft versions.

A review is identified by (platform, external_id). Seeing it again with a different content hash
means the customer edited it: the old wording is kept as a revision and the review goes back to
whatever state lets a person see the change.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.base import ExistingReply, Review

from ..classify import Classification
from ..drafts import Draft
from . import states
from .models import DraftRow, ReviewRow, RevisionRow

NEW_OUTCOME, UPDATED, UNCHANGED = "new", "updated", "unchanged"

# Keys per IN list, well within the bound parameters SQLite and PostgreSQL take in one query.
_CHUNK = 500


@dataclass(frozen=True)
class Ingested:
    """What storing one review did, and its row.

    A review a batch inserted has its row read back only when first asked for, all of the
    batch in one query: most doors only count outcomes, and building ORM rows costs about as
    much as inserting them.
    """

    stored: ReviewRow | Callable[[], ReviewRow]
    outcome: str

    @property
    def row(self) -> ReviewRow:
        return self.stored if isinstance(self.stored, ReviewRow) else self.stored()


def find(session: Session, platform: str, external_id: str) -> ReviewRow | None:
    return session.scalar(select(ReviewRow).where(ReviewRow.platform == platform,
                                                  ReviewRow.external_id == external_id))


def find_many(session: Session,
              keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], ReviewRow]:
    """The stored reviews among (platform, external_id) keys, in a few queries, not one each."""
    wanted = sorted(set(keys))
    known: dict[tuple[str, str], ReviewRow] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.scalars(select(ReviewRow).where(_among(wanted[start:start + _CHUNK])))
        known.update({(row.platform, row.external_id): row for row in rows})
    return known


def _among(keys: list[tuple[str, str]]) -> ColumnElement[bool]:
    """Rows with one of `keys`, as a condition the unique (platform, external_id) index serves
    on both engines (SQLite scans the table for a row-value IN)."""
    platforms: dict[str, list[str]] = {}
    for platform, external_id in keys:
        platforms.setdefault(platform, []).append(external_id)
    return or_(*(and_(ReviewRow.platform == platform, ReviewRow.external_id.in_(ids))
                 for platform, ids in platforms.items()))


def ingest(session: Session, review: Review, classification: Classification, *,
           actor: str = "import", answerable: bool = True) -> Ingested:
    """Insert a new review, or record an edit of a known one; never a duplicate."""
    row = find(session, review.platform, review.external_id)
    if row is None:
        row = ReviewRow(platform=review.platform, external_id=review.external_id,
                        status=states.NEW, answerable=answerable)
        _fill(row, review, classification)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # Another writer stored the same review between our SELECT and INSERT.
            existing = find(session, review.platform, review.external_id)
            if existing is None:
                raise
            return _update(session, existing, review, classification, actor)
        states.record(session, row, actor=actor, action="received")
        return Ingested(row, NEW_OUTCOME)
    return _update(session, row, review, classification, actor)


def ingest_many(session: Session, items: list[tuple[Review, Classification]], *,
                actor: str = "import", answerable: bool = True) -> list[Ingested]:
    """Ingest a batch with one lookup, the path every door takes.

    Edits of known reviews go one by one through the ORM (each needs a revision and the state
    machine); the new ones, most of any import, go in with Core as multi-row INSERTs returning
    their ids and are audited with one executemany; their rows are read back, in one query,
    only if someone asks for one. So a batch costs a handful of statements however many new
    reviews it holds.

    If another writer inserts one of the same reviews meanwhile, the batch is redone one review
    at a time, which resolves the conflict as an update.
    """
    keys = {(r.platform, r.external_id) for r, _ in items}
    if len(keys) != len(items):
        # Every way in refuses or drops repeats first; storing one would audit it as an edit.
        raise ValueError("the same review appears twice in one batch")
    known = find_many(session, keys)
    edited: dict[tuple[str, str], Ingested] = {}
    fresh = [(review, classification) for review, classification in items
             if (review.platform, review.external_id) not in known]
    try:
        with session.begin_nested(), session.no_autoflush:
            for review, classification in items:
                key = (review.platform, review.external_id)
                if key in known:
                    edited[key] = _update(session, known[key], review, classification, actor)
            session.flush()
            inserted = _insert_new(session, fresh, answerable)
            states.record_many(session, {inserted.ids[key]: partial(inserted.row, key)
                                         for key in _keys(fresh)},
                               status=states.NEW, actor=actor, action="received")
    except IntegrityError:
        return [ingest(session, review, classification, actor=actor, answerable=answerable)
                for review, classification in items]
    return [edited[key] if key in edited else Ingested(partial(inserted.row, key), NEW_OUTCOME)
            for key in _keys(items)]


def _keys(items: list[tuple[Review, Classification]]) -> list[tuple[str, str]]:
    return [(review.platform, review.external_id) for review, _ in items]


class _Inserted:
    """The ids of the reviews a batch inserted, and their rows once one is asked for."""

    def __init__(self, session: Session, ids: dict[tuple[str, str], int]) -> None:
        self.ids = ids
        self._session = session
        self._rows: dict[tuple[str, str], ReviewRow] | None = None

    def row(self, key: tuple[str, str]) -> ReviewRow:
        if self._rows is None:
            wanted = sorted(self.ids.values())
            self._rows = {}
            for start in range(0, len(wanted), _CHUNK):
                rows = self._session.scalars(select(ReviewRow).where(
                    ReviewRow.id.in_(wanted[start:start + _CHUNK])))
                self._rows.update({(row.platform, row.external_id): row for row in rows})
        return self._rows[key]


def _insert_new(session: Session, items: list[tuple[Review, Classification]],
                answerable: bool) -> _Inserted:
    """Insert reviews the store does not have with Core, returning their ids.

    With RETURNING, SQLAlchemy sends the parameter sets as multi-row INSERTs (its
    "insertmanyvalues"), which both engines take faster than a row-by-row executemany. Rows
    come back in any order, hence the keys beside the ids. Columns left out get their defaults
    per row, exactly as the ORM would give them.
    """
    table = cast(Table, ReviewRow.__table__)
    ids: dict[tuple[str, str], int] = {}
    for start in range(0, len(items), _CHUNK):
        chunk = items[start:start + _CHUNK]
        found = session.execute(
            insert(table).returning(table.c.id, table.c.platform, table.c.external_id), [
                {**{_COLUMN_OF[name]: value
                    for name, value in _values(review, classification).items()},
                 "platform": review.platform, "external_id": review.external_id,
                 "status": states.NEW, "answerable": answerable}
                for review, classification in chunk])
        ids.update({(platform, external_id): id_ for id_, platform, external_id in found})
    return _Inserted(session, ids)


def _update(session: Session, row: ReviewRow, review: Review,
            classification: Classification, actor: str) -> Ingested:
    if row.content_hash == review.content_hash:
        if review.reply is not None and review.reply.text != row.platform_reply:
            row.platform_reply = review.reply.text
            row.platform_reply_at = review.reply.updated_at
        return Ingested(row, UNCHANGED)
    session.add(RevisionRow(review_id=row.id, content_hash=row.content_hash, rating=row.rating,
                            title=row.title, text=row.text,
                            review_updated_at=row.review_updated_at))
    kept_reply = (row.platform_reply, row.platform_reply_at)
    _fill(row, review, classification)
    if review.reply is None:
        # As for an unchanged review: a copy without the reply (a webhook, an import) says
        # nothing about it, so the reply on record, ours included, stays beside the edit.
        row.platform_reply, row.platform_reply_at = kept_reply
    states.record(session, row, actor=actor, action="edited_by_customer")
    reason = "The customer edited the review"
    if row.status in (states.DRAFTED, states.DRAFT_FAILED, states.NEEDS_ATTENTION):
        states.transition(session, row, states.NEW, actor=actor, reason=f"{reason}; draft again")
    elif row.status in (states.APPROVED, states.FAILED):
        states.transition(session, row, states.NEEDS_ATTENTION, actor=actor,
                          reason=f"{reason} after the reply was approved; check it still fits")
    elif row.status == states.POSTED:
        states.transition(session, row, states.NEEDS_ATTENTION, actor=actor,
                          reason=f"{reason} after our reply; consider a follow-up", follow_up=True)
    return Ingested(row, UPDATED)


def _fill(row: ReviewRow, review: Review, classification: Classification) -> None:
    for name, value in _values(review, classification).items():
        setattr(row, name, value)


def _values(review: Review, classification: Classification) -> dict[str, Any]:
    """What a review and its classification put in a row, by attribute name."""
    return {
        "source": review.source, "author": review.author, "rating": review.rating,
        "title": review.title, "text": review.text, "language": classification.language,
        "declared_language": review.language, "review_created_at": review.created_at,
        "review_updated_at": review.updated_at,
        "platform_reply": review.reply.text if review.reply else None,
        "platform_reply_at": review.reply.updated_at if review.reply else None,
        "url": review.url, "meta": review.metadata, "content_hash": review.content_hash,
        "categories": classification.categories,
        "escalation_reasons": classification.escalation_reasons,
        "escalated": classification.escalate,
    }


# Attribute name to column name: `meta` is stored in the column `metadata`.
_COLUMN_OF = {attribute.key: attribute.columns[0].key
              for attribute in ReviewRow.__mapper__.column_attrs}


def to_review(row: ReviewRow) -> Review:
    """The platform-neutral review a stored row stands for (what drafters and connectors take)."""
    return Review(
        platform=row.platform, external_id=row.external_id, rating=row.rating,
        created_at=row.review_created_at, source=row.source, author=row.author, title=row.title,
        text=row.text, language=row.declared_language, updated_at=row.review_updated_at,
        reply=ExistingReply(row.platform_reply, row.platform_reply_at)
        if row.platform_reply is not None else None,
        url=row.url, metadata=dict(row.meta or {}),
    )


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current_draft(session: Session, row: ReviewRow) -> DraftRow | None:
    return session.get(DraftRow, row.current_draft_id) if row.current_draft_id else None


def save_draft(session: Session, row: ReviewRow, draft: Draft, *, actor: str = "system",
               instruction: str | None = None) -> DraftRow:
    """Store a new draft version and move the review to drafted or needs_attention.

    A draft with violations or an escalation needs a person; a clean one is drafted.
    """
    version = (session.scalar(select(func.max(DraftRow.version))
                              .where(DraftRow.review_id == row.id)) or 0) + 1
    stored = DraftRow(**_draft_values(row, draft, version, actor, instruction))
    session.add(stored)
    session.flush()
    _point_at(session, row, draft, stored.id, version, actor, {})
    session.flush()
    return stored


def save_drafts(session: Session, items: list[tuple[ReviewRow, Draft]], *,
                actor: str = "system", **fields: Any) -> None:
    """`save_draft` for a batch (a worker's drafting round): one query for the next versions,
    one multi-row INSERT of the drafts, one UPDATE per review carrying its state change and
    draft fields together, and one executemany of the audit rows.

    `fields` are more columns written in each review's UPDATE (a drafting lease released).
    """
    if not items:
        return
    ids = [row.id for row, _ in items]
    versions: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        versions.update(session.execute(
            select(DraftRow.review_id, func.max(DraftRow.version))
            .where(DraftRow.review_id.in_(ids[start:start + _CHUNK]))
            .group_by(DraftRow.review_id)).all())
    table = cast(Table, DraftRow.__table__)
    stored: dict[int, int] = {}
    for start in range(0, len(items), _CHUNK):
        # Core with RETURNING: sent as multi-row INSERTs on both engines, where the ORM would
        # insert SQLite rows one by one to read each id back. Ids come back in any order.
        found = session.execute(insert(table).returning(table.c.id, table.c.review_id), [
            _draft_values(row, draft, (versions.get(row.id) or 0) + 1, actor, None)
            for row, draft in items[start:start + _CHUNK]])
        stored.update({review_id: id_ for id_, review_id in found})
    with session.no_autoflush, states.audit_batch(session):
        for row, draft in items:
            _point_at(session, row, draft, stored[row.id], (versions.get(row.id) or 0) + 1,
                      actor, fields)


def _draft_values(row: ReviewRow, draft: Draft, version: int, actor: str,
                  instruction: str | None) -> dict[str, Any]:
    return {"review_id": row.id, "version": version, "text": draft.text,
            "engine": draft.engine, "language": draft.language,
            "offer_id": draft.offer.id if draft.offer else None,
            "violations": [v.to_json() for v in draft.violations], "note": draft.note,
            "instruction": instruction, "created_by": actor,
            "prompt_tokens": draft.prompt_tokens, "completion_tokens": draft.completion_tokens}


def _point_at(session: Session, row: ReviewRow, draft: Draft, draft_id: int, version: int,
              actor: str, fields: dict[str, Any]) -> None:
    """Make the stored draft the review's current one and move the review as the draft says."""
    values: dict[str, Any] = {**fields, "current_draft_id": draft_id,
                              "has_offer": draft.offer is not None,
                              "violation_count": len(draft.violations)}
    if draft.policy:
        # The draft was classified with its brand's lexicons: its categories are the ones
        # the brand's offers are matched against.
        values["policy"] = draft.policy[:200]
        values["categories"] = list(draft.categories)
    if draft.escalate:
        target = states.NEEDS_ATTENTION
        reason = "Escalation: " + ", ".join(draft.escalation_reasons)
    elif draft.violations:
        target = states.NEEDS_ATTENTION
        reason = "Guardrails: " + ", ".join(sorted({v.code for v in draft.violations}))
    else:
        target, reason = states.DRAFTED, f"Draft v{version} by {actor} ({draft.engine})"
    if row.status != target:
        states.transition(session, row, target, actor=actor, reason=reason, flush=False,
                          **values)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        # The status line names the draft it is about, so it follows every new version.
        row.status_reason = reason
        states.record(session, row, actor=actor, action="draft_saved", reason=reason)
