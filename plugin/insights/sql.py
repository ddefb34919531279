"""The few SQL expressions that SQLite and PostgreSQL spell differently, behind one function each.

Everything else in the insights queries is portable SQLAlchemy; keeping the dialect branches here
means a third engine needs changes in one file only.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    FromClause,
    Select,
    SQLColumnExpression,
    Text,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session

from ..store.models import DraftRow, ReviewRow


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def utc_day(session: Session, column: SQLColumnExpression[Any]) -> ColumnElement[str]:
    """The UTC calendar day of a timestamp as 'YYYY-MM-DD' (SQLite stores naive UTC text)."""
    if dialect(session) == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def hours_between(session: Session, start: SQLColumnExpression[Any],
                  end: SQLColumnExpression[Any]) -> ColumnElement[float | Decimal]:
    """`end - start` in hours, computed by the database so only one number per row travels."""
    if dialect(session) == "postgresql":
        return cast(func.extract("epoch", end - start), Float) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def json_elements(session: Session, column: SQLColumnExpression[Any]) -> FromClause:
    """A table of the text elements of a JSON array column, joinable beside its row."""
    if dialect(session) == "postgresql":
        return func.json_array_elements_text(column).table_valued("value")
    return func.json_each(column).table_valued("value")


# How PostgreSQL spells a JSON escape it refuses to turn into text: a lone surrogate or NUL.
_UNREADABLE_ESCAPE = r"\\u(d[89a-f][0-9a-f]{2}|0000)"


def json_member_text(session: Session, column: SQLColumnExpression[Any],
                     key: str) -> ColumnElement[str]:
    """A string member of a JSON object column as text ('' if absent).

    Rows stored before the input rules may hold an escaped lone surrogate or NUL in their
    metadata. PostgreSQL refuses to extract any member of such a value, which would fail the
    whole query; for those rows the member is read from the stored text as it is written,
    escapes and all, so the row is shown escaped instead of taking the page down. (SQLite hands
    such text over and `store.db` decodes it leniently.)
    """
    member = column[key].as_string()
    if dialect(session) == "postgresql":
        stored = cast(column, Text)
        written = func.substring(stored, f'"{key}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"')
        member = case((stored.op("~*")(_UNREADABLE_ESCAPE), written), else_=member)
    return func.coalesce(member, "")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between closest ranks.

    This is the common spreadsheet and NumPy default, so an owner can check a figure by hand:
    the median of 1, 2, 4, 6 is 3, and p90 of ten values lies 90% of the way up the sorted list.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def reply_draft_id(review_id: SQLColumnExpression[int] = ReviewRow.id,
                   approved_at: SQLColumnExpression[Any] = ReviewRow.approved_at
                   ) -> ColumnElement[int]:
    """The id of the draft a review's reply was approved from, correlated to the review's id
    and approval time (by default `ReviewRow`'s, or a CTE's columns).

    That is the newest version created at or before the approval. The current draft is not
    enough: when the customer edits the review after our reply, a follow-up draft becomes
    current, but the reply the customer saw (and its offer) is still the approved one.
    """
    return (select(DraftRow.id)
            .where(DraftRow.review_id == review_id, DraftRow.created_at <= approved_at)
            .order_by(DraftRow.version.desc()).limit(1)
            .correlate_except(DraftRow).scalar_subquery())


def fenced(stmt: Select, name: str) -> CTE:
    """`stmt` as a materialized CTE: the cohort's rows, each with the ids its correlated
    subqueries found, computed first and then joined by primary key.

    Written as one query with the subquery in the join condition, PostgreSQL plans the join
    over every draft or revision in the table (linear in the history, not in the period);
    MATERIALIZED keeps it from folding the two back together.
    """
    return stmt.cte(name).prefix_with("MATERIALIZED", dialect="postgresql")
