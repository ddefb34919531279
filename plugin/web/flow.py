"""Moving from one review to the next within the view a person came from.

The review page carries the queue address it was opened from (`back`); its filters and sort
decide what "next" means. Neighbours are found by comparing sort keys (keyset), not by counting
rows, so a step costs one indexed query however long the queue is, and the review just handled
may have left the view (approved, skipped) without losing its place.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ..context import get_policy
from ..store.models import ReviewRow
from .filters import QueueFilter, beyond, reverse


@dataclass(frozen=True)
class Neighbours:
    previous: int | None
    next: int | None


def view_of(back: str, me: str = "") -> QueueFilter:
    """The queue view a `back` address shows (the default view for anything else)."""
    parts = urlsplit(back or "")
    view = QueueFilter.from_args(MultiDict(parse_qsl(parts.query))) \
        if parts.path in ("/queue", "/") else QueueFilter()
    return prepared(view, me)


def prepared(view: QueueFilter, me: str) -> QueueFilter:
    """A view with what its filters and sort need from outside the query string: the policy's
    response targets, the moment now and who "me" (the signed-in person) is."""
    return replace(view, targets=get_policy().response_targets, now=datetime.now(UTC), me=me)


def _step(db: Session, view: QueueFilter, row: ReviewRow, forward: bool) -> int | None:
    planned = view.search_plan(db)
    stmt = view._where(select(ReviewRow.id).where(ReviewRow.status.in_(view.statuses)),
                       planned, "each" if planned and planned.walk else "all")
    stmt = stmt.where(beyond(row, view, forward))
    order = view.order() if forward else [reverse(c) for c in view.order()]
    return db.scalar(stmt.order_by(*order).limit(1))


def neighbours(db: Session, back: str, row: ReviewRow, me: str = "") -> Neighbours:
    view = view_of(back, me)
    return Neighbours(previous=_step(db, view, row, forward=False),
                      next=_step(db, view, row, forward=True))
