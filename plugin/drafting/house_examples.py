"""The house voice from the store: approved replies, and what people changed before approving.

Nothing extra is written when a person edits a draft: every version is already a row in
`drafts`, so the (engine draft, final text) pair of an approved review is the first machine
version and the approved one. Edited pairs come first as examples, since they show what the
team corrects; unedited approvals fill the rest.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Review

from ..classify import Classification
from ..store import states
from ..store.db import Database
from ..store.models import DraftRow, ReviewRow
from .examples import Example, select_examples

APPROVED_STATES = (states.APPROVED, states.POSTING, states.POSTED)
HUMAN_ENGINES = ("human",)
CANDIDATES = 60


@dataclass(frozen=True)
class EditedPair:
    review_id: int
    engine: str
    drafted: str
    final: str


def approved_replies(session: Session, language: str | None, rating: int,
                     limit: int = CANDIDATES) -> list[tuple[ReviewRow, DraftRow, DraftRow | None]]:
    """Approved reviews in a language within a star of `rating`, newest approval first, with
    their approved draft and their first machine draft."""
    rows = session.execute(
        select(ReviewRow, DraftRow)
        .join(DraftRow, DraftRow.id == ReviewRow.current_draft_id)
        .where(ReviewRow.status.in_(APPROVED_STATES), ReviewRow.language == language,
               ReviewRow.rating.between(rating - 1, rating + 1))
        .order_by(ReviewRow.approved_at.desc(), ReviewRow.id.desc())
        .limit(limit)).all()
    firsts = _first_machine_drafts(session, [r.id for r, _ in rows])
    return [(review, final, firsts.get(review.id)) for review, final in rows]


def _first_machine_drafts(session: Session, review_ids: list[int]) -> dict[int, DraftRow]:
    if not review_ids:
        return {}
    found: dict[int, DraftRow] = {}
    for draft in session.scalars(select(DraftRow)
                                 .where(DraftRow.review_id.in_(review_ids),
                                        DraftRow.engine.not_in(HUMAN_ENGINES))
                                 .order_by(DraftRow.review_id, DraftRow.version)):
        found.setdefault(draft.review_id, draft)
    return found


def edited_pairs(session: Session, language: str | None, rating: int) -> list[EditedPair]:
    """Approved replies whose final text differs from what the engine drafted."""
    return [EditedPair(review.id, first.engine, first.text, final.text)
            for review, final, first in approved_replies(session, language, rating)
            if first is not None and first.text.strip() != final.text.strip()]


class StoreExamples:
    """An example provider for the LLM engine, reading approved replies from the database."""

    def __init__(self, database: Database):
        self.database = database

    def __call__(self, review: Review, classification: Classification,
                 limit: int) -> list[Example]:
        with self.database.session() as session:
            found = approved_replies(session, classification.language, review.rating)
            edited: list[Example] = []
            plain: list[Example] = []
            for row, final, first in found:
                example = Example(rating=row.rating, language=row.language or "",
                                  categories=tuple(row.categories or ()),
                                  review=row.text, reply=final.text)
                is_edited = first is not None and first.text.strip() != final.text.strip()
                (edited if is_edited else plain).append(example)
        return select_examples([*edited, *plain], classification.language, review.rating,
                               classification.categories, limit)
