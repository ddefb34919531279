"""The one way a review enters the store: classified with a policy, then stored, in batches.

Every door hands its validated reviews here: the integrator webhook, the REST API, Google's
push, a source sync, the JSON Lines import, Play's export import and the demo. So every review
is classified by the same rules, deduplicated and edit-detected by the same batched store path,
audited as `received` under the name of the door that brought it, and marked answerable or not
by what that door knows about where replies go. A review that names a source is classified with
the policy of that source's brand and is answerable only if that source's connector can post
replies, whichever door brought it: the escalation flag and categories set on arrival stay, so
they must come from the brand's own lexicons. What differs between doors stays with the door:
how it validates and refuses input, its idempotency, progress bar, commits and whether it drafts
at once.

The area sits just above the store and the classifier and below every door, the sources area
included, because a sync is a door too: it cannot ask the sources area anything, so a door tells
it who it is (`Door`) instead of intake looking it up.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

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
    `answerable` is False when replies cannot go back where any of the door's reviews came from
    (a read-only feed's sync); it is decided when a review is first stored. A door that takes
    reviews of several sources says which of them are read-only in `Sources`. With
    `refresh_known` False a review the store already has is left exactly as it is, for a door
    whose copy is older than the one the platform's API gives (a monthly export).
    """

    actor: str
    answerable: bool = True
    refresh_known: bool = True

    def __post_init__(self) -> None:
        if not self.actor.strip():
            raise ValueError("actor: a door names who brought the reviews, for the audit log")


@dataclass(frozen=True)
class Sources:
    """What the store knows of the sources a door's reviews name (`Review.source`), read by
    the door before it classifies (the sources area sits above intake).

    `policies` holds the policy of each source that follows a brand of its own; `read_only`
    names the sources whose connector cannot post replies. A review naming no source, or one
    not listed, is classified with the door's policy and is as answerable as the door says.
    """

    policies: Mapping[str, Policy] = field(default_factory=dict)
    read_only: frozenset[str] = frozenset()


NO_SOURCES = Sources()


@dataclass(frozen=True)
class Classified:
    """A review with the classification it is stored with, and whether its source can take a
    reply."""

    review: Review
    classification: Classification
    answerable: bool = True


def classify(reviews: Iterable[Review], policy: Policy,
             sources: Sources = NO_SOURCES) -> list[Classified]:
    """Classify without touching the database, each review with its source's policy.

    A door with a transaction to open calls this first and `store` inside it: on SQLite a
    session holds the one write lock from its first statement, so classifying inside it would
    keep every other writer waiting.
    """
    default = classifier_for(policy)
    found: list[Classified] = []
    for review in reviews:
        own = sources.policies.get(review.source) if review.source else None
        classifier = classifier_for(own) if own is not None else default
        found.append(Classified(review, classifier.classify(review),
                                review.source not in sources.read_only))
    return found


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
            sources: Sources = NO_SOURCES, batch_size: int = BATCH_SIZE) -> list[Ingested]:
    """Classify and store, for a door whose session has not yet written anything."""
    return store(session, classify(reviews, policy, sources), door, batch_size=batch_size)


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
    stored: dict[tuple[str, str], Ingested] = {}
    # Reviews of a read-only source go in apart; a batch rarely mixes the two.
    for answerable in (True, False):
        group = [c for c in fresh if (door.answerable and c.answerable) is answerable]
        if group:
            outcomes = ingest_many(session, [(c.review, c.classification) for c in group],
                                   actor=door.actor, answerable=answerable)
            stored.update(zip(((c.review.platform, c.review.external_id) for c in group),
                              outcomes, strict=True))
    return [Ingested(left_alone[key], UNCHANGED) if key in left_alone else stored[key]
            for key in ((c.review.platform, c.review.external_id) for c in batch)]
