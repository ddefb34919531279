"""The one way a review enters the store: classified with a policy, then stored, in batches.

Every door hands its validated reviews here: the integrator webhook, the REST API, Google's
push, a source sync, the JSON Lines import, Play's export import and the demo. So every review
is classified by the same rules, deduplicated and edit-detected by the same batched store path,
audited as `received` under the name of the door that brought it, and marked answerable or not
by what that door knows about where replies go. What differs between doors stays with the door:
how it validates and refuses input, which policy it classifies with (a source's brand), its
idempotency, progress bar, commits and whether it drafts at once.

The area sits just above the store and the classifier and below every door, the sources area
included, because a sync is a door too: it cannot ask the sources area anything, so a door tells
it who it is (`Door`) instead of intake looking it up.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from connectors.base import Review

from .classify import Classification, classifier_for
from .policy import Policy
from .store.models import ReviewRow
from .store.reviews import UNCHANGED, Ingested, find_many, ingest_many

#: Reviews stored per round trip; a door may hand over any number at once.
BATCH_SIZE = 500


@dataclass(frozen=True)
class Door:
    """Who brought the reviews in.

    `actor` is the name their arrival and any edit they carry are audited under: the door's
    own name, or the caller or source it came through (`sync:<source>`, `token:<name>`).
    `answerable` is False when replies cannot go back where the review came from (a read-only
    feed); it is decided when a review is first stored. With `refresh_known` False a review
    the store already has is left exactly as it is, for a door whose copy is older than the one
    the platform's API gives (a monthly export).
    """

    actor: str
    answerable: bool = True
    refresh_known: bool = True

    def __post_init__(self) -> None:
        if not self.actor.strip():
            raise ValueError("actor: a door names who brought the reviews, for the audit log")


@dataclass(frozen=True)
class Classified:
    """A review with the classification it is stored with."""

    review: Review
    classification: Classification


def classify(reviews: Iterable[Review], policy: Policy) -> list[Classified]:
    """Classify without touching the database.

    A door with a transaction to open calls this first and `store` inside it: on SQLite a
    session holds the one write lock from its first statement, so classifying inside it would
    keep every other writer waiting.
    """
    classifier = classifier_for(policy)
    return [Classified(review, classifier.classify(review)) for review in reviews]


def store(session: Session, classified: Sequence[Classified], door: Door, *,
          batch_size: int = BATCH_SIZE) -> list[Ingested]:
    """Store classified reviews; one outcome (new, updated, unchanged and the row) per review,
    in the order given.

    A review given twice raises ValueError naming it: stored in turn, the second would be
    audited as the customer editing the first, so every door refuses or drops repeats first.
    """
    if batch_size < 1:
        raise ValueError("batch_size: must be at least 1")
    _refuse_repeats(classified)
    outcomes: list[Ingested] = []
    for start in range(0, len(classified), batch_size):
        outcomes.extend(_store_batch(session, classified[start:start + batch_size], door))
    return outcomes


def take_in(session: Session, reviews: Sequence[Review], policy: Policy, door: Door, *,
            batch_size: int = BATCH_SIZE) -> list[Ingested]:
    """Classify and store, for a door whose session has not yet written anything."""
    return store(session, classify(reviews, policy), door, batch_size=batch_size)


def _refuse_repeats(classified: Sequence[Classified]) -> None:
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(classified):
        key = (item.review.platform, item.review.external_id)
        if key in seen:
            raise ValueError(f"reviews[{index}].external_id: {key[1]!r} on {key[0]} was already "
                             "given; each review is stored once per call")
        seen.add(key)


def _store_batch(session: Session, batch: Sequence[Classified], door: Door) -> list[Ingested]:
    left_alone: dict[tuple[str, str], ReviewRow] = {}
    if not door.refresh_known:
        left_alone = find_many(session, ((c.review.platform, c.review.external_id)
                                         for c in batch))
    fresh = [c for c in batch if (c.review.platform, c.review.external_id) not in left_alone]
    stored = iter(ingest_many(session, [(c.review, c.classification) for c in fresh],
                              actor=door.actor, answerable=door.answerable) if fresh else [])
    return [Ingested(left_alone[key], UNCHANGED) if key in left_alone else next(stored)
            for key in ((c.review.platform, c.review.external_id) for c in batch)]
