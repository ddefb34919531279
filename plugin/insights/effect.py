"""What our replies achieved: the star rating before and after, for reviews the customer
edited after we replied.

"Before" is the rating the review had when we replied: the rating kept in the first revision
recorded after `posted_at` (a revision stores what the review said before an edit). "After" is
the rating now. Summaries are per offer of the reply's draft, per problem category (a review with
two categories counts in both), per review language and per drafting engine, where a final draft
written by a person is reported as "edited by a person". This is the figure that tells an owner
whether the policy works.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..policy import Policy
from ..store.models import DraftRow, ReviewRow, RevisionRow
from . import sql

ENGINE_LABELS = {"offline": "offline", "llm": "llm", "human": "edited by a person"}
DIMENSIONS = ("offer", "category", "language", "engine")
NO_OFFER = "no offer"


@dataclass(frozen=True)
class EffectItem:
    review_id: int
    before: int
    after: int
    offer: str
    categories: tuple[str, ...]
    language: str
    engine: str


@dataclass(frozen=True)
class EffectGroup:
    key: str
    count: int
    before: float
    after: float
    improved: int
    unchanged: int
    worse: int

    @property
    def change(self) -> float:
        return self.after - self.before

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "count": self.count, "rating_before": self.before,
                "rating_after": self.after, "change": self.change, "improved": self.improved,
                "unchanged": self.unchanged, "worse": self.worse}


@dataclass(frozen=True)
class Effect:
    items: list[EffectItem]
    overall: EffectGroup | None
    groups: dict[str, list[EffectGroup]]

    def to_json(self) -> dict[str, Any]:
        return {"overall": self.overall.to_json() if self.overall else None,
                **{f"by_{d}": [g.to_json() for g in self.groups[d]] for d in DIMENSIONS}}


def summarise(key: str, items: list[EffectItem]) -> EffectGroup:
    count = len(items)
    return EffectGroup(
        key=key, count=count,
        before=sum(i.before for i in items) / count, after=sum(i.after for i in items) / count,
        improved=sum(1 for i in items if i.after > i.before),
        unchanged=sum(1 for i in items if i.after == i.before),
        worse=sum(1 for i in items if i.after < i.before))


def _grouped(items: list[EffectItem],
             keys: Callable[[EffectItem], Iterable[str]]) -> list[EffectGroup]:
    buckets: dict[str, list[EffectItem]] = {}
    for item in items:
        for key in keys(item):
            buckets.setdefault(key, []).append(item)
    groups = [summarise(key, members) for key, members in buckets.items()]
    return sorted(groups, key=lambda g: (-g.count, g.key))


def reply_effect(session: Session, policy: Policy, cohort) -> Effect:
    first_edit_after_reply = (
        select(func.min(RevisionRow.id))
        .where(RevisionRow.review_id == ReviewRow.id,
               RevisionRow.recorded_at > ReviewRow.posted_at)
        .correlate(ReviewRow).scalar_subquery())
    # Few replied reviews are edited afterwards: their approved draft is looked up after the
    # edit is found, not for every replied review of the period.
    replied = sql.fenced(
        select(ReviewRow.id, ReviewRow.rating, ReviewRow.categories, ReviewRow.language,
               ReviewRow.approved_at, first_edit_after_reply.label("revision_id"))
        .where(cohort, ReviewRow.posted_at.is_not(None)), "replied")
    edited = sql.fenced(
        select(replied, sql.reply_draft_id(replied.c.id, replied.c.approved_at)
               .label("draft_id"))
        .where(replied.c.revision_id.is_not(None)), "edited")
    rows = session.execute(
        select(edited.c.id, RevisionRow.rating, edited.c.rating, DraftRow.offer_id,
               edited.c.categories, edited.c.language, DraftRow.engine)
        .select_from(edited)
        .join(RevisionRow, RevisionRow.id == edited.c.revision_id)
        .outerjoin(DraftRow, DraftRow.id == edited.c.draft_id)
        .order_by(edited.c.id))
    items = []
    for review_id, before, after, offer_id, categories, language, engine in rows:
        offer = policy.offer(offer_id) if offer_id else None
        items.append(EffectItem(
            review_id, before, after,
            offer=offer.label if offer else (offer_id or NO_OFFER),
            categories=tuple(categories or ()) or ("uncategorised",),
            language=language or "unknown",
            engine=ENGINE_LABELS.get(engine or "", engine or "unknown")))
    return Effect(
        items=items,
        overall=summarise("all", items) if items else None,
        groups={"offer": _grouped(items, lambda i: [i.offer]),
                "category": _grouped(items, lambda i: i.categories),
                "language": _grouped(items, lambda i: [i.language]),
                "engine": _grouped(items, lambda i: [i.engine])})
