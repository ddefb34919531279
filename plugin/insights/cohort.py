"""Which reviews a figure counts: the period (by when the customer wrote them, UTC days) and
the cohort counted by day, place, rating, skipped and reply.

Apart from the figures because both the dashboard and the export choose a period the same way,
and because the cohort's counts come from two places that must agree: the daily tallies for
whole days, the reviews themselves for the partial days at either end.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from connectors.base import MAX_YEAR, MIN_YEAR

from ..store import states
from ..store.models import ReviewRow, utcnow
from ..store.tallies import ReviewDay
from . import sql

_SINCE_RE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def parse_moment(text: str, end: datetime | None = None) -> datetime:
    """`30d`, `12h`, `2w` before `end`, or an ISO date or timestamp (UTC if no offset)."""
    end = end or utcnow()
    match = _SINCE_RE.match(text)
    if match:
        amount, unit = int(match[1]), match[2]
        return end - timedelta(hours=amount * {"h": 1, "d": 24, "w": 168}[unit])
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h or 2w, nor a date") from None
    return moment.replace(tzinfo=moment.tzinfo or end.tzinfo)


def make_period(since: str = "30d", until: str | None = None) -> Period:
    start: datetime | None
    end: datetime | None
    try:
        end = parse_moment(until) if until else utcnow()
        start = parse_moment(since, end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError:
        start = end = None
    if start is None or end is None or start.year < MIN_YEAR or end.year > MAX_YEAR:
        raise ValueError(f"the period must lie between {MIN_YEAR} and {MAX_YEAR}")
    if start >= end:
        raise ValueError("the period must start before it ends")
    return Period(start, end)


@dataclass(frozen=True)
class CohortDay:
    """How many reviews of the cohort were written on one UTC day with one combination of
    place, rating, skipped and the public state of our posted reply ('' for none)."""

    day: str
    platform: str
    source: str
    location: str
    rating: int
    skipped: bool
    reply: str
    reviews: int


def cohort_days(session: Session, period: Period, brand: str | None = None, *,
                daily: bool = True) -> list[CohortDay]:
    """The cohort counted by day and key: the whole UTC days inside the period from
    `review_days` (kept by triggers, see `store.tallies`), the partial days at either end from
    the reviews themselves, so the answer is exact for any period and reads a few hundred
    tally rows a day however many reviews there are."""
    midnight = datetime.min.time()
    first = datetime.combine(period.start.date(), midnight, UTC)
    first = first if first == period.start else first + timedelta(days=1)
    last = datetime.combine(period.end.date(), midnight, UTC)
    if not daily or first >= last:
        return _raw_days(session, period.start, period.end, brand)
    found = _tallied_days(session, first.date().isoformat(), last.date().isoformat(), brand)
    if period.start < first:
        found += _raw_days(session, period.start, first, brand)
    if last < period.end:
        found += _raw_days(session, last, period.end, brand)
    return found


def _tallied_days(session: Session, first: str, last: str, brand: str | None
                  ) -> list[CohortDay]:
    keys = (ReviewDay.day, ReviewDay.platform, ReviewDay.source, ReviewDay.location,
            ReviewDay.rating, ReviewDay.skipped, ReviewDay.reply)
    stmt = select(*keys, func.sum(ReviewDay.reviews)).where(
        ReviewDay.day >= first, ReviewDay.day < last).group_by(*keys)
    if brand:
        stmt = stmt.where(ReviewDay.policy == brand)
    return [_cohort_day(row) for row in session.execute(stmt) if row[7]]


def _raw_days(session: Session, start: datetime, end: datetime, brand: str | None
              ) -> list[CohortDay]:
    keys = (sql.utc_day(session, ReviewRow.review_created_at), ReviewRow.platform,
            func.coalesce(ReviewRow.source, ""),
            sql.json_member_text(session, ReviewRow.meta, "location"), ReviewRow.rating,
            ReviewRow.status == states.SKIPPED,
            case((ReviewRow.posted_at.is_(None), ""),
                 else_=func.coalesce(ReviewRow.public_state, "published")))
    stmt = select(*keys, func.count(ReviewRow.id)).where(
        ReviewRow.review_created_at >= start, ReviewRow.review_created_at < end).group_by(*keys)
    if brand:
        stmt = stmt.where(ReviewRow.policy == brand)
    return [_cohort_day(row) for row in session.execute(stmt)]


def _cohort_day(row: Any) -> CohortDay:
    return CohortDay(day=row[0], platform=row[1], source=row[2], location=row[3],
                     rating=int(row[4]), skipped=bool(row[5]), reply=row[6],
                     reviews=int(row[7]))
