"""The queue's filters, sort orders and pages, read from the query string.

One GROUP BY gives the count of every status under the other filters; the tabs show those counts
and the pager adds up the ones selected, so a page costs two queries however large the table.
Unknown values are ignored rather than rejected, so an old bookmark still opens.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from connectors import registry

from ..store import states
from ..store.models import ReviewRow
from ..store.search import Matches, words

# What still needs a person; the queue opens on these.
OPEN = (states.NEW, states.DRAFTED, states.DRAFT_FAILED, states.NEEDS_ATTENTION,
        states.APPROVED, states.FAILED)
STATUS_CHOICES = ("open", *states.STATES, "all")
SORTS = {
    "oldest": (ReviewRow.review_created_at.asc(), ReviewRow.id.asc()),
    "newest": (ReviewRow.review_created_at.desc(), ReviewRow.id.desc()),
    "rating": (ReviewRow.rating.asc(), ReviewRow.review_created_at.asc(), ReviewRow.id.asc()),
}
YES_NO = ("yes", "no")
MAX_PAGE = 10_000


@dataclass(frozen=True)
class QueueFilter:
    status: str = "open"
    platform: str = ""
    source: str = ""
    brand: str = ""
    rating: int | None = None
    language: str = ""
    escalated: str = ""
    offer: str = ""
    violations: str = ""
    sort: str = "oldest"
    q: str = ""
    overdue: str = ""
    page: int = 1
    #: Reviews written before this moment are overdue (set from the policy by the view).
    overdue_before: Any = field(default=None, compare=False)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_args(cls, args: Any) -> QueueFilter:
        def choice(name: str, options: tuple[str, ...], default: str = "") -> str:
            value = args.get(name, default)
            return value if value in options else default

        rating = args.get("rating", "")
        page = args.get("page", "1")
        return cls(
            status=choice("status", STATUS_CHOICES, "open"),
            platform=choice("platform", registry.platform_names()),
            source=args.get("source", "")[:200],
            brand=args.get("brand", "")[:200],
            rating=int(rating) if rating in ("1", "2", "3", "4", "5") else None,
            language=args.get("language", "")[:35],
            escalated=choice("escalated", YES_NO),
            offer=choice("offer", YES_NO),
            violations=choice("violations", YES_NO),
            sort=choice("sort", tuple(SORTS), "oldest"),
            q=" ".join(args.get("q", "").split())[:200],
            overdue=choice("overdue", ("yes",)),
            page=min(max(int(page), 1), MAX_PAGE) if page.isascii() and page.isdigit() else 1,
        )

    @property
    def statuses(self) -> tuple[str, ...]:
        if self.status == "open":
            return OPEN
        if self.status == "all":
            return states.STATES
        return (self.status,)

    def _where(self, stmt: Select) -> Select:
        """Every filter except status, which the counts group by."""
        if self.platform:
            stmt = stmt.where(ReviewRow.platform == self.platform)
        if self.source:
            stmt = stmt.where(ReviewRow.source == self.source)
        if self.brand:
            stmt = stmt.where(ReviewRow.policy == self.brand)
        if self.rating is not None:
            stmt = stmt.where(ReviewRow.rating == self.rating)
        if self.language:
            stmt = stmt.where(ReviewRow.language == self.language)
        if self.escalated:
            stmt = stmt.where(ReviewRow.escalated.is_(self.escalated == "yes"))
        if self.offer:
            stmt = stmt.where(ReviewRow.has_offer.is_(self.offer == "yes"))
        if self.violations == "yes":
            stmt = stmt.where(ReviewRow.violation_count > 0)
        elif self.violations == "no":
            stmt = stmt.where(ReviewRow.violation_count == 0)
        if self.q and words(self.q):
            stmt = stmt.where(Matches(self.q))
        if self.overdue and self.overdue_before is not None:
            stmt = stmt.where(ReviewRow.status.in_(OPEN),
                              ReviewRow.review_created_at < self.overdue_before)
        return stmt

    def counts(self, session: Session) -> dict[str, int]:
        stmt = self._where(select(ReviewRow.status, func.count()).group_by(ReviewRow.status))
        found = dict(session.execute(stmt).all())
        return {status: found.get(status, 0) for status in states.STATES}

    def rows(self, session: Session, size: int) -> list[ReviewRow]:
        stmt = self._where(select(ReviewRow).where(ReviewRow.status.in_(self.statuses)))
        stmt = stmt.order_by(*SORTS[self.sort]).limit(size).offset((self.page - 1) * size)
        return list(session.scalars(stmt))

    def query(self, **changes: Any) -> str:
        """The query string for this view with some values changed (page resets to 1)."""
        changed = replace(self, **({"page": 1} | changes))
        values = {"status": changed.status, "platform": changed.platform,
                  "source": changed.source, "brand": changed.brand, "rating": changed.rating or "",
                  "language": changed.language, "escalated": changed.escalated,
                  "offer": changed.offer, "violations": changed.violations,
                  "sort": changed.sort, "q": changed.q, "overdue": changed.overdue,
                  "page": changed.page}
        defaults = {"status": "open", "sort": "oldest", "page": 1}
        kept = {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}
        return "?" + urlencode(kept) if kept else ""

    @property
    def active(self) -> bool:
        return any((self.platform, self.source, self.brand, self.rating, self.language,
                    self.escalated, self.offer, self.violations, self.q, self.overdue))


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.size + 1

    @property
    def last(self) -> int:
        return min(self.number * self.size, self.total)


FACETS_TTL = 60.0
_facets: dict[str, tuple[float, dict[str, list[str]]]] = {}


def facet_values(session: Session) -> dict[str, list[str]]:
    """Sources, brands and languages present, for the filter menus.

    A DISTINCT over every review costs tens of milliseconds on PostgreSQL (it has no skip scan)
    and the answer changes only when a new source or language arrives, so it is kept for a
    minute per database.
    """
    key = str(session.get_bind().engine.url)
    now = time.monotonic()
    cached = _facets.get(key)
    if cached is not None and now - cached[0] < FACETS_TTL:
        return cached[1]
    found = _read_facets(session)
    _facets[key] = (now, found)
    return found


def _read_facets(session: Session) -> dict[str, list[str]]:
    sources = session.scalars(select(ReviewRow.source).distinct().order_by(ReviewRow.source))
    languages = session.scalars(select(ReviewRow.language).where(ReviewRow.language.is_not(None))
                                .distinct().order_by(ReviewRow.language))
    brands = session.scalars(select(ReviewRow.policy).where(ReviewRow.policy.is_not(None))
                             .distinct().order_by(ReviewRow.policy))
    return {"sources": [s for s in sources if s],
            "languages": [lang for lang in languages if lang is not None],
            "brands": [b for b in brands if b]}
