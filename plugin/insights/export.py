"""Exports of reviews with their drafts, final replies, offers, timings and approvers.

Rows are streamed in id order, a batch at a time, so exporting a hundred thousand reviews keeps
memory flat and the web download starts at once. CSV cells that a spreadsheet would run as a
formula are prefixed with an apostrophe: review text is written by strangers.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.untrusted import printable

from ..policy import Policy
from ..store.models import DraftRow, ReviewRow, RevisionRow
from .cohort import Period
from .effect import ENGINE_LABELS

BATCH = 500
COLUMNS = (
    "id", "platform", "external_id", "source", "location", "author", "rating",
    "rating_when_replied", "title", "text", "language", "categories", "escalated",
    "escalation_reasons", "status", "review_created_at", "received_at", "approved_by",
    "approved_at", "posted_at", "hours_to_reply", "within_target", "reply_text", "reply_engine",
    "reply_draft_version", "draft_count", "offer_id", "offer_label", "offer_kind", "offer_value",
    "offer_currency", "follow_up",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def reply_draft(drafts: list[DraftRow], approved_at: datetime | None) -> DraftRow | None:
    """The newest draft created at or before approval: the same rule as `sql.reply_draft_id`."""
    if approved_at is None:
        return None
    eligible = [d for d in drafts if d.created_at <= approved_at]
    return max(eligible, key=lambda d: d.version) if eligible else None


def _row(review: ReviewRow, drafts: list[DraftRow], revisions: list[RevisionRow],
         policy: Policy) -> dict[str, Any]:
    reply = reply_draft(drafts, review.approved_at)
    offer = policy.offer(reply.offer_id) if reply and reply.offer_id else None
    hours = ((review.posted_at - review.review_created_at).total_seconds() / 3600
             if review.posted_at else None)
    edited_after = [r for r in revisions if review.posted_at and r.recorded_at > review.posted_at]
    return {
        "id": review.id, "platform": review.platform, "external_id": review.external_id,
        "source": review.source, "location": (review.meta or {}).get("location", ""),
        "author": review.author, "rating": review.rating,
        "rating_when_replied": edited_after[0].rating if edited_after else
        (review.rating if review.posted_at else None),
        "title": review.title, "text": review.text, "language": review.language,
        "categories": list(review.categories or []), "escalated": review.escalated,
        "escalation_reasons": list(review.escalation_reasons or []), "status": review.status,
        "review_created_at": _time(review.review_created_at),
        "received_at": _time(review.received_at), "approved_by": review.approved_by,
        "approved_at": _time(review.approved_at), "posted_at": _time(review.posted_at),
        "hours_to_reply": round(hours, 2) if hours is not None else None,
        "within_target": hours <= policy.response_target_hours if hours is not None else None,
        "reply_text": reply.text if reply else None,
        "reply_engine": ENGINE_LABELS.get(reply.engine, reply.engine) if reply else None,
        "reply_draft_version": reply.version if reply else None,
        "draft_count": len(drafts),
        "offer_id": reply.offer_id if reply else None,
        "offer_label": offer.label if offer else None,
        "offer_kind": offer.kind if offer else None,
        "offer_value": float(offer.cap) if offer and offer.kind == "money" and offer.cap else None,
        "offer_currency": offer.currency if offer and offer.kind == "money" else None,
        "follow_up": review.follow_up,
        "drafts": [{"version": d.version, "engine": d.engine, "text": d.text,
                    "offer_id": d.offer_id, "created_by": d.created_by,
                    "created_at": _time(d.created_at)} for d in drafts],
    }


def rows(session: Session, policy: Policy,
         period: Period | None = None) -> Iterator[dict[str, Any]]:
    """Every review (in `period` by when it was written, if given), oldest id first."""
    last_id = 0
    while True:
        query = select(ReviewRow).where(ReviewRow.id > last_id).order_by(ReviewRow.id).limit(BATCH)
        if period is not None:
            query = query.where(ReviewRow.review_created_at >= period.start,
                                ReviewRow.review_created_at < period.end)
        batch = list(session.scalars(query))
        if not batch:
            return
        ids = [r.id for r in batch]
        drafts: dict[int, list[DraftRow]] = {}
        for draft in session.scalars(select(DraftRow).where(DraftRow.review_id.in_(ids))
                                     .order_by(DraftRow.version)):
            drafts.setdefault(draft.review_id, []).append(draft)
        revisions: dict[int, list[RevisionRow]] = {}
        for revision in session.scalars(select(RevisionRow).where(RevisionRow.review_id.in_(ids))
                                        .order_by(RevisionRow.id)):
            revisions.setdefault(revision.review_id, []).append(revision)
        for review in batch:
            yield _row(review, drafts.get(review.id, []), revisions.get(review.id, []), policy)
        last_id = ids[-1]
        session.expunge_all()


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_lines(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """CSV text in chunks (header first), for files and streamed downloads alike.

    Every chunk is encodable: a value stored before the input rules (a lone surrogate) is
    written as its escape rather than stopping the export half-way.
    """
    buffer = _LineBuffer()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield buffer.take()
    for item in items:
        writer.writerow([_cell(item[c]) for c in COLUMNS])
        yield printable(buffer.take())


def jsonl_lines(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        yield printable(json.dumps(item, ensure_ascii=False)) + "\n"


def write(items: Iterable[dict[str, Any]], fmt: str, out: IO[str]) -> int:
    count = 0
    lines = csv_lines(items) if fmt == "csv" else jsonl_lines(items)
    for line in lines:
        out.write(line)
        count += 1
    return count - 1 if fmt == "csv" else count


class _LineBuffer:
    """A write target for csv.writer that hands back what was written since the last take."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text
