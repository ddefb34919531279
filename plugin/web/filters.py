"""The queue's filters, sort orders and pages, read from the query string.

The count of every status under the other filters comes from `store.tallies` (a search, the
overdue filter and the language, offer and violation filters, which the tallies do not
keep, count the matching rows instead); the tabs show those
counts and the pager adds up the ones selected. A page is read by keyset: the pager's links
carry the id of the last (or first) row shown, `after` (or `before`), and the next page starts
from that row's sort keys in an index, so page 400 costs what page 1 does. A bare `page=N`
(an old bookmark) still opens, by skipping rows. Unknown values are ignored rather than
rejected, so an old bookmark still opens.

The "Most urgent" sort orders by each review's due moment: when it was written plus the
policy's response target for its star rating (`Policy.response_targets`). The review furthest
past its due moment comes first; reviews due at the same moment go lowest rating first. With
targets of 4 hours for one star and 72 for five, a one-star review waiting 5 hours (1 hour past
due) comes before a five-star review waiting 60 hours (12 hours still to go); with a single
target for every rating it is simply "oldest first, lowest rating first among equals".
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Column, Float, Select, and_, case, func, or_, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement, UnaryExpression

from connectors import registry

from ..inputs import parse_id
from ..store import states, tallies
from ..store.models import ReviewRow
from ..store.search import Matches, Plan, matching_ids, plan, words

# What still needs a person; the queue opens on these.
OPEN = (states.NEW, states.DRAFTED, states.DRAFT_FAILED, states.NEEDS_ATTENTION,
        states.APPROVED, states.FAILED)
STATUS_CHOICES = ("open", *states.STATES, "all")
SORTS = {
    "oldest": (ReviewRow.review_created_at.asc(), ReviewRow.id.asc()),
    "newest": (ReviewRow.review_created_at.desc(), ReviewRow.id.desc()),
    "rating": (ReviewRow.rating.asc(), ReviewRow.review_created_at.asc(), ReviewRow.id.asc()),
    "priority": (),  # depends on the policy's targets: see QueueFilter.order
}
SORT_LABELS = {"oldest": "Oldest first", "newest": "Newest first", "rating": "Lowest rating",
               "priority": "Most urgent"}
YES_NO = ("yes", "no")
MAX_PAGE = 10_000
#: Response target (hours) when a view was given none.
DEFAULT_TARGET = 48


class epoch_seconds(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """Seconds since 1970 of a stored UTC datetime, on either engine."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgres(element, compiler, **kw) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


def due_at(targets: dict[int, int]) -> ColumnElement:
    """When a review's reply is due, in epoch seconds: written + target for its rating."""
    hours = case({rating: hours for rating, hours in targets.items()},
                 value=ReviewRow.rating, else_=DEFAULT_TARGET)
    return epoch_seconds(ReviewRow.review_created_at) + hours * 3600


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
    #: "" for anyone's, "me", "none" (unassigned) or one person's name.
    assignee: str = ""
    page: int = 1
    #: Keyset cursors: the id of the row the page starts after (or ends before).
    after: int | None = None
    before: int | None = None
    #: Reviews written before this moment are overdue (used when `targets` is not set).
    overdue_before: Any = field(default=None, compare=False)
    #: The policy's response target in hours per star rating, and the moment "now", which
    #: together decide what is overdue and the "Most urgent" order (set by the view).
    targets: dict[int, int] = field(default_factory=dict, compare=False)
    now: Any = field(default=None, compare=False)
    #: The signed-in person's name, which "me" stands for.
    me: str = field(default="", compare=False)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    #: Search plans by query, and the matches of narrow ones, found once per request however
    #: many queries the view runs.
    plans: dict[str, Plan] = field(default_factory=dict, compare=False, repr=False)
    matches: dict[str, list[int]] = field(default_factory=dict, compare=False, repr=False)

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
            assignee=" ".join(args.get("assignee", "").split())[:150],
            page=min(max(int(page), 1), MAX_PAGE) if page.isascii() and page.isdigit() else 1,
            after=parse_id(args.get("after")),
            before=parse_id(args.get("before")),
        )

    @property
    def statuses(self) -> tuple[str, ...]:
        if self.status == "open":
            return OPEN
        if self.status == "all":
            return states.STATES
        return (self.status,)

    def search_plan(self, session: Session) -> Plan | None:
        """The plan of this view's search (None without one), see store.search."""
        if not (self.q and words(self.q)):
            return None
        if self.q not in self.plans:
            self.plans[self.q] = plan(session, self.q)
        return self.plans[self.q]

    def at_least(self, session: Session) -> bool:
        """Whether the counts are lower bounds (a search counted over its first matches)."""
        planned = self.search_plan(session)
        return planned is not None and planned.at_least

    def search_ids(self, session: Session, planned: Plan) -> list[int] | None:
        """The matches of a search that collects them (not one that walks), found once."""
        if planned.walk:
            return None
        if self.q not in self.matches:
            self.matches[self.q] = matching_ids(session, planned)
        return self.matches[self.q]

    def _where(self, stmt: Select, planned: Plan | None = None, how: str = "all",
               ids: list[int] | None = None) -> Select:
        """Every filter except status, which the counts group by; `how` the search is matched
        (see `Matches`)."""
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
            stmt = stmt.where(Matches(self.q, planned, how, ids))
        if self.overdue:
            late = self._late()
            if late is not None:
                stmt = stmt.where(ReviewRow.status.in_(OPEN), late)
        if self.assignee == "none":
            stmt = stmt.where(ReviewRow.assignee.is_(None))
        elif self.assignee:
            stmt = stmt.where(ReviewRow.assignee == (self.me if self.assignee == "me"
                                                     else self.assignee))
        return stmt

    def _late(self) -> ColumnElement | None:
        """Written longer ago than the target for its rating allows; None without a clock."""
        if self.targets and self.now is not None:
            by_hours: dict[int, list[int]] = {}
            for rating, hours in self.targets.items():
                by_hours.setdefault(hours, []).append(rating)
            return or_(*[and_(ReviewRow.rating.in_(ratings),
                              ReviewRow.review_created_at < self.now - timedelta(hours=hours))
                         for hours, ratings in sorted(by_hours.items())])
        if self.overdue_before is not None:
            return ReviewRow.review_created_at < self.overdue_before
        return None

    def order(self) -> tuple[UnaryExpression, ...]:
        """The ORDER BY of this view's sort."""
        if self.sort == "priority":
            targets = self.targets or {rating: DEFAULT_TARGET for rating in range(1, 6)}
            return (due_at(targets).asc(), ReviewRow.rating.asc(), ReviewRow.id.asc())
        return SORTS[self.sort]

    def _tally_keys(self) -> dict[str, Any] | None:
        """The filters as `store.tallies` key values; None when a filter is not one of them."""
        if (self.q and words(self.q)) or (self.overdue and self._late() is not None) \
                or (self.assignee == "me" and not self.me):
            return None
        if self.language or self.offer or self.violations:
            return None
        keys: dict[str, Any] = {"platform": self.platform, "source": self.source,
                                "policy": self.brand, "rating": self.rating}
        keys = {name: value for name, value in keys.items() if value not in ("", None)}
        if self.escalated:
            keys["escalated"] = self.escalated == "yes"
        if self.assignee:
            keys["assignee"] = "" if self.assignee == "none" else \
                self.me if self.assignee == "me" else self.assignee
        return keys

    def counts(self, session: Session) -> dict[str, int]:
        """Reviews per status: from the tallies when every filter is one of their keys; for a
        search with many matches, among its first ones (at least)."""
        keys = self._tally_keys()
        if keys is not None:
            found = tallies.status_counts(session, **keys)
            return {status: found.get(status, 0) for status in states.STATES}
        planned = self.search_plan(session)
        stmt = select(ReviewRow.status, func.count()).group_by(ReviewRow.status)
        if planned is not None and planned.at_least:
            stmt = self._where(stmt, planned, "first")
        else:
            stmt = self._where(stmt, planned,
                               ids=self.search_ids(session, planned) if planned else None)
        found = dict(session.execute(stmt).all())
        return {status: found.get(status, 0) for status in states.STATES}

    def rows(self, session: Session, size: int, lookahead: int = 0) -> list[ReviewRow]:
        """One page, and `lookahead` rows past it (to know whether a next page is): after (or
        before) the cursor's row when there is one, else by number."""
        planned = self.search_plan(session)
        stmt = self._where(select(ReviewRow).where(ReviewRow.status.in_(self.statuses)),
                           planned, "each" if planned and planned.walk else "all",
                           self.search_ids(session, planned) if planned else None)
        cursor = session.get(ReviewRow, self.after or self.before) \
            if self.after or self.before else None
        if cursor is None:
            stmt = stmt.order_by(*self.order()).limit(size + lookahead) \
                .offset((self.page - 1) * size)
            return list(session.scalars(stmt))
        if not self.after:
            order = tuple(reverse(c) for c in self.order())
            found = list(session.scalars(stmt.where(beyond(cursor, self, False))
                                         .order_by(*order).limit(size)))
            return found[::-1]
        return list(session.scalars(stmt.where(beyond(cursor, self, True))
                                    .order_by(*self.order()).limit(size + lookahead)))

    def query(self, **changes: Any) -> str:
        """The query string for this view with some values changed (page resets to 1)."""
        changed = replace(self, **({"page": 1, "after": None, "before": None} | changes))
        values = {"status": changed.status, "platform": changed.platform,
                  "source": changed.source, "brand": changed.brand, "rating": changed.rating or "",
                  "language": changed.language, "escalated": changed.escalated,
                  "offer": changed.offer, "violations": changed.violations,
                  "sort": changed.sort, "q": changed.q, "overdue": changed.overdue,
                  "assignee": changed.assignee, "page": changed.page,
                  "after": changed.after, "before": changed.before}
        defaults = {"status": "open", "sort": "oldest", "page": 1}
        kept = {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}
        return "?" + urlencode(kept) if kept else ""

    @property
    def active(self) -> bool:
        return any((self.platform, self.source, self.brand, self.rating, self.language,
                    self.escalated, self.offer, self.violations, self.q, self.overdue,
                    self.assignee))


def sort_keys(view: QueueFilter) -> list[tuple[ColumnElement, bool]]:
    """The sort's keys with their direction (True when ascending)."""
    return [(clause.element, getattr(clause.modifier, "__name__", "") == "asc_op")
            for clause in view.order()]


def _value(row: ReviewRow, key: ColumnElement):
    """The row's value of a sort key: a column's loaded value, or the computed key (the due
    moment) read for that row in the same query."""
    if isinstance(key, Column):
        return getattr(row, key.key)
    return select(key).where(ReviewRow.id == row.id).correlate(None).scalar_subquery()


def beyond(row: ReviewRow, view: QueueFilter, forward: bool) -> ColumnElement:
    """Rows strictly after `row` in the view's sort order (before it when not `forward`)."""
    keys = sort_keys(view)
    if len({ascending for _, ascending in keys}) == 1:
        # One direction for every key: a row-value comparison, which both engines read as a
        # range of the sort's index (the OR form below makes PostgreSQL filter instead).
        columns = tuple_(*[column for column, _ in keys])
        values = tuple_(*[_value(row, column) for column, _ in keys])
        return columns > values if keys[0][1] == forward else columns < values
    ors = []
    for i, (column, ascending) in enumerate(keys):
        value = _value(row, column)
        later = column > value if ascending == forward else column < value
        ors.append(and_(*[c == _value(row, c) for c, _ in keys[:i]], later))
    return or_(*ors)


def reverse(clause: UnaryExpression) -> UnaryExpression:
    """The same sort key in the other direction."""
    column = clause.element
    return column.desc() if getattr(clause.modifier, "__name__", "") == "asc_op" else column.asc()


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int
    #: The total is a lower bound (a search counted "at least"), and whether a row follows.
    at_least: bool = False
    more: bool = False

    @property
    def pages(self) -> int:
        known = max(1, -(-self.total // self.size))
        return max(known, self.number + 1) if self.at_least and self.more else known

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

    Read from the tallies (a few thousand rows, not every review); the answer changes only when
    a new source or language arrives, so it is also kept for a minute per database.
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
    languages = session.scalars(select(ReviewRow.language).where(ReviewRow.language.is_not(None))
                                .distinct().order_by(ReviewRow.language))
    return {"sources": tallies.values_in_use(session, "source"),
            "languages": [lang for lang in languages if lang is not None],
            "brands": tallies.values_in_use(session, "policy")}
