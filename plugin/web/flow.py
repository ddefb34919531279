"""Moving from one review to the next within the view a person came from.

The review page carries the queue address it was opened from (`back`); its filters and sort
decide what "next" means. Neighbours are found by comparing sort keys (keyset), not by counting
rows, so a step costs one indexed query however long the queue is, and the review just handled
may have left the view (approved, skipped) without losing its place.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import Column, and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.operators import asc_op
from werkzeug.datastructures import MultiDict

from ..context import get_policy
from ..store.models import ReviewRow
from .filters import SORTS, QueueFilter


@dataclass(frozen=True)
class Neighbours:
    previous: int | None
    next: int | None


def view_of(back: str) -> QueueFilter:
    """The queue view a `back` address shows (the default view for anything else)."""
    parts = urlsplit(back or "")
    view = QueueFilter.from_args(MultiDict(parse_qsl(parts.query))) \
        if parts.path in ("/queue", "/") else QueueFilter()
    target = get_policy().response_target_hours
    return replace(view, overdue_before=datetime.now(UTC) - timedelta(hours=target))


def _keys(sort: str) -> list[tuple[Column[Any], bool]]:
    """The sort's columns with their direction (True when ascending)."""
    found = []
    for clause in SORTS[sort]:
        # Every sort key is a table column, so its key names the row's attribute.
        found.append((cast(Column[Any], clause.element), clause.modifier is asc_op))
    return found


def _beyond(row: ReviewRow, sort: str, forward: bool):
    """Rows strictly after `row` in the sort order (before it when not `forward`)."""
    keys = _keys(sort)
    ors = []
    for i, (column, ascending) in enumerate(keys):
        value = getattr(row, column.key)
        later = column > value if ascending == forward else column < value
        ors.append(and_(*[c == getattr(row, c.key) for c, _ in keys[:i]], later))
    return or_(*ors)


def _step(db: Session, view: QueueFilter, row: ReviewRow, forward: bool) -> int | None:
    stmt = view._where(select(ReviewRow.id).where(ReviewRow.status.in_(view.statuses)))
    stmt = stmt.where(_beyond(row, view.sort, forward))
    order = SORTS[view.sort] if forward else [_reverse(c) for c in SORTS[view.sort]]
    return db.scalar(stmt.order_by(*order).limit(1))


def _reverse(clause):
    column = clause.element
    return column.desc() if clause.modifier.__name__ == "asc_op" else column.asc()


def neighbours(db: Session, back: str, row: ReviewRow) -> Neighbours:
    view = view_of(back)
    return Neighbours(previous=_step(db, view, row, forward=False),
                      next=_step(db, view, row, forward=True))
