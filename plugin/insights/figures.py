"""The dashboard's figures, computed once here so the web page, `makeright report` and the
digest can never disagree.

Definitions (also in docs/insights.md):

* The period selects reviews by when the customer wrote them (`review_created_at`), so every
  period figure describes one cohort: "of the reviews written in the last 30 days, how many got a
  reply, how fast, with what offers". Days are UTC days.
* Response rate = reviews in the cohort with a posted reply / (reviews in the cohort - skipped
  ones). Skipping is a person's decision not to reply, so it is not counted as a miss.
* Time to reply = hours from the customer's review to our posted reply (`posted_at`), over the
  cohort's replied reviews; median and p90 with linear interpolation.
* Waiting past target = reviews with no posted reply that are not skipped and were written more
  than the policy's `response_target_hours` before the end of the period; oldest first.
  Together with open escalations, this describes the present, whatever the period.
* Open escalations = escalated reviews that are neither posted nor skipped.
* Offers = the offer of each approved reply's draft (see `sql.reply_draft_id`) in the cohort;
  a money offer is valued at its cap.
* Ratings by place = current star ratings of the cohort per platform, source and location.
* Categories trending up = categories whose count in the 7 days before the period's end is
  above their weekly average over the 4 weeks before that.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session

from connectors import registry

from ..policy import Policy
from ..store import states, tallies
from ..store.models import DraftRow, ReviewRow, utcnow
from . import sql
from .cohort import CohortDay, Period, cohort_days
from .effect import Effect, reply_effect

RATINGS = (1, 2, 3, 4, 5)
WAITING_STATES = (states.NEW, states.DRAFTED, states.DRAFT_FAILED, states.NEEDS_ATTENTION,
                  states.APPROVED, states.POSTING, states.FAILED)
CLOSED_STATES = (states.POSTED, states.SKIPPED)


@dataclass(frozen=True)
class DayCount:
    day: str
    by_rating: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.by_rating.values())


@dataclass(frozen=True)
class Timing:
    count: int
    median_hours: float | None
    p90_hours: float | None
    within_target: int


@dataclass(frozen=True)
class WaitingReview:
    id: int
    platform: str
    source: str
    rating: int
    status: str
    review_created_at: datetime
    age_hours: float


@dataclass(frozen=True)
class OfferLine:
    offer_id: str
    label: str
    kind: str
    count: int
    currency: str | None = None
    value: Decimal | None = None


@dataclass(frozen=True)
class PlaceRatings:
    platform: str
    source: str
    location: str
    by_rating: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.by_rating.values())

    @property
    def average(self) -> float:
        return sum(r * n for r, n in self.by_rating.items()) / self.total

    @property
    def label(self) -> str:
        return " · ".join(part for part in (self.platform, self.source, self.location) if part)

    @property
    def short_label(self) -> str:
        """For a chart axis: the platform's name and the most specific place we know."""
        name = registry.label(self.platform)
        return " · ".join(part for part in (name, self.location or self.source) if part)


@dataclass(frozen=True)
class CategoryTrend:
    category: str
    this_week: int
    previous_average: float

    @property
    def change(self) -> float:
        return self.this_week - self.previous_average

    @property
    def rising(self) -> bool:
        return self.this_week > self.previous_average


@dataclass
class Report:
    period: Period
    target_hours: int
    received_by_day: list[DayCount]
    received: int
    skipped: int
    replied: int
    timing: Timing
    waiting: list[WaitingReview]
    waiting_total: int
    escalations_open: int
    escalation_reasons: dict[str, int]
    offers: list[OfferLine]
    ratings_by_place: list[PlaceRatings]
    categories: list[CategoryTrend]
    effect: Effect
    #: Posted replies by what the platform shows: published, pending (accepted, not yet live)
    #: and rejected by moderation.
    public: dict[str, int] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=utcnow)

    @property
    def response_rate(self) -> float | None:
        """Posted replies over reviews that were not deliberately skipped."""
        answerable = self.received - self.skipped
        return self.replied / answerable if answerable else None

    @property
    def offer_totals(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for line in self.offers:
            if line.currency and line.value is not None:
                totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.value
        return totals

    @property
    def trending(self) -> list[CategoryTrend]:
        return [c for c in self.categories if c.rising]

    def to_json(self) -> dict[str, Any]:
        return plain({
            "period": {"start": self.period.start, "end": self.period.end},
            "response_target_hours": self.target_hours,
            "received": self.received, "skipped": self.skipped, "replied": self.replied,
            "response_rate": self.response_rate,
            "public_replies": {key: self.public.get(key, 0) for key in PUBLIC_KEYS},
            "time_to_reply": asdict(self.timing),
            "received_by_day": [{"day": d.day, "total": d.total, "by_rating": d.by_rating}
                                for d in self.received_by_day],
            "waiting_past_target": {"total": self.waiting_total,
                                    "oldest": [asdict(w) for w in self.waiting]},
            "escalations_open": {"total": self.escalations_open,
                                 "by_reason": self.escalation_reasons},
            "offers": [asdict(o) for o in self.offers],
            "offer_totals": self.offer_totals,
            "ratings_by_place": [{"platform": p.platform, "source": p.source,
                                  "location": p.location, "total": p.total,
                                  "average": p.average, "by_rating": p.by_rating}
                                 for p in self.ratings_by_place],
            "categories": [{"category": c.category, "this_week": c.this_week,
                            "previous_weekly_average": c.previous_average,
                            "change": c.change, "rising": c.rising} for c in self.categories],
            "reply_effect": self.effect.to_json(),
            "generated_at": self.generated_at,
        })


def plain(value: Any) -> Any:
    """JSON-ready values: ISO timestamps, money as numbers, string keys."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return float(value)
    return value


def compute(session: Session, policy: Policy, period: Period, *,
            waiting_limit: int = 20, brand: str | None = None, daily: bool = True) -> Report:
    """The figures for reviews written in the period; with `brand`, only the reviews whose
    draft followed that policy (as the queue names it), priced with that policy's offers.

    The counts by day, place and reply come from the daily tallies for the period's whole days
    (see `cohort_days`); `daily=False` counts every row instead, which must give the same."""
    cohort = and_(ReviewRow.review_created_at >= period.start,
                  ReviewRow.review_created_at < period.end)
    if brand:
        from ..sources.brands import policy_for_brand

        cohort = and_(cohort, ReviewRow.policy == brand)
        policy = policy_for_brand(session, brand, policy)
    days = cohort_days(session, period, brand, daily=daily)
    received = sum(d.reviews for d in days)
    skipped = sum(d.reviews for d in days if d.skipped)
    replied = sum(d.reviews for d in days if d.reply)
    waiting, waiting_total = waiting_past_target(session, policy, period.end, waiting_limit)
    escalations = _open_escalations(session)
    return Report(
        period=period, target_hours=policy.response_target_hours,
        received_by_day=_by_day(period, days),
        received=received, skipped=skipped, replied=replied,
        timing=_timing(session, policy, cohort),
        waiting=waiting, waiting_total=waiting_total,
        escalations_open=open_escalations(session),
        escalation_reasons=escalations,
        offers=_offers(session, policy, cohort),
        ratings_by_place=_ratings_by_place(days),
        categories=_categories(session, period.end),
        effect=reply_effect(session, policy, cohort),
        public=_public(days),
    )


PUBLIC_KEYS = ("published", "pending", "rejected")


def _public(days: list[CohortDay]) -> dict[str, int]:
    """Replies by public state; a reply posted before the state was tracked counts as shown."""
    names = {"published": "published", "posted": "pending", "rejected": "rejected"}
    counts = dict.fromkeys(PUBLIC_KEYS, 0)
    for d in days:
        if d.reply:
            counts[names.get(d.reply, "pending")] += d.reviews
    return counts


def _by_day(period: Period, days: list[CohortDay]) -> list[DayCount]:
    counts: dict[str, dict[int, int]] = {d.isoformat(): dict.fromkeys(RATINGS, 0)
                                         for d in period.days}
    for d in days:
        counts.setdefault(d.day, dict.fromkeys(RATINGS, 0))
        counts[d.day][d.rating] = counts[d.day].get(d.rating, 0) + d.reviews
    return [DayCount(d, counts[d]) for d in sorted(counts)]


def _timing(session: Session, policy: Policy, cohort) -> Timing:
    hours = sql.hours_between(session, ReviewRow.review_created_at, ReviewRow.posted_at)
    values = [float(h) for h in session.scalars(
        select(hours).where(cohort, ReviewRow.posted_at.is_not(None)))]
    target = policy.response_target_hours
    return Timing(count=len(values), median_hours=sql.percentile(values, 0.5),
                  p90_hours=sql.percentile(values, 0.9),
                  within_target=sum(1 for v in values if v <= target))


def waiting_past_target(session: Session, policy: Policy, now: datetime,
                        limit: int) -> tuple[list[WaitingReview], int]:
    """The oldest `limit` reviews still without a reply past the target, and how many there are."""
    deadline = now - timedelta(hours=policy.response_target_hours)
    waiting = and_(ReviewRow.status.in_(WAITING_STATES), ReviewRow.posted_at.is_(None))
    late = and_(waiting, ReviewRow.review_created_at < deadline)
    # Every review waiting (from the tallies) less those still within the target: only the
    # last few hours' rows are read, however long the history.
    total = sum(tallies.status_counts(session, WAITING_STATES, replied=False).values()) - (
        session.scalar(select(func.count(ReviewRow.id))
                       .where(waiting, ReviewRow.review_created_at >= deadline)) or 0)
    rows = session.execute(
        select(ReviewRow.id, ReviewRow.platform, ReviewRow.source, ReviewRow.rating,
               ReviewRow.status, ReviewRow.review_created_at)
        .where(late).order_by(ReviewRow.review_created_at, ReviewRow.id).limit(limit))
    return [WaitingReview(*row, age_hours=(now - row.review_created_at)
                          .total_seconds() / 3600) for row in rows], total


def _open_filter():
    return and_(ReviewRow.escalated.is_(True), ReviewRow.status.not_in(CLOSED_STATES))


def _open_escalations(session: Session) -> dict[str, int]:
    reason = sql.json_elements(session, ReviewRow.escalation_reasons)
    rows = session.execute(select(reason.c.value, func.count(ReviewRow.id))
                           .select_from(ReviewRow).join(reason, true())
                           .where(_open_filter()).group_by(reason.c.value))
    return dict(sorted(rows, key=lambda r: (-r[1], r[0])))


def open_escalations(session: Session) -> int:
    """Counted apart from the reasons: a review can have several reasons, or none recorded.
    From the tallies, so the count reads no reviews."""
    return sum(count for status, count in tallies.status_counts(session, escalated=True).items()
               if status not in CLOSED_STATES)


def _offers(session: Session, policy: Policy, cohort) -> list[OfferLine]:
    approved = sql.fenced(select(ReviewRow.id, sql.reply_draft_id().label("draft_id"))
                          .where(cohort, ReviewRow.approved_at.is_not(None)), "approved")
    rows = session.execute(
        select(DraftRow.offer_id, func.count(approved.c.id))
        .select_from(approved).join(DraftRow, DraftRow.id == approved.c.draft_id)
        .where(DraftRow.offer_id.is_not(None))
        .group_by(DraftRow.offer_id))
    lines = []
    for offer_id, count in rows:
        assert offer_id is not None  # the query keeps only drafts with an offer
        offer = policy.offer(offer_id)
        if offer is None:
            lines.append(OfferLine(offer_id, offer_id, "unknown", count))
        elif offer.kind == "money" and offer.cap is not None:
            lines.append(OfferLine(offer_id, offer.label, offer.kind, count, offer.currency,
                                   offer.cap * count))
        else:
            lines.append(OfferLine(offer_id, offer.label, offer.kind, count))
    return sorted(lines, key=lambda o: (-o.count, o.offer_id))


def _ratings_by_place(days: list[CohortDay]) -> list[PlaceRatings]:
    places: dict[tuple[str, str, str], dict[int, int]] = {}
    for d in days:
        ratings = places.setdefault((d.platform, d.source, d.location),
                                    dict.fromkeys(RATINGS, 0))
        ratings[d.rating] = ratings.get(d.rating, 0) + d.reviews
    result = [PlaceRatings(*key, by_rating=counts) for key, counts in places.items()]
    return sorted(result, key=lambda p: (-p.total, p.label))


def _categories(session: Session, end: datetime) -> list[CategoryTrend]:
    week_start, window_start = end - timedelta(days=7), end - timedelta(days=35)
    category = sql.json_elements(session, ReviewRow.categories)
    is_recent = ReviewRow.review_created_at >= week_start
    rows = session.execute(
        select(category.c.value,
               func.sum(case((is_recent, 1), else_=0)),
               func.sum(case((is_recent, 0), else_=1)))
        .select_from(ReviewRow).join(category, true())
        .where(ReviewRow.review_created_at >= window_start, ReviewRow.review_created_at < end)
        .group_by(category.c.value))
    trends = [CategoryTrend(name, int(recent), int(earlier) / 4) for name, recent, earlier in rows]
    return sorted(trends, key=lambda c: (-c.change, c.category))
