"""Drafting many reviews at once, with a bounded number in flight.

LLM drafting is waiting on the network, so threads sharing one synchronous client overlap the
waits well (the SDK's connection pool is thread-safe); the bench measures how close a batch gets
to the ideal. Results come back in input order, and at most `2 x concurrency` reviews are held
at a time, so a file of any size streams through.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from connectors.base import Review

from ..drafts import Draft, DraftFailed
from ..policy import Policy
from . import Drafter, draft_review


@dataclass(frozen=True)
class Drafted:
    """One review's outcome: a checked draft, or why there is none."""

    review: Review
    draft: Draft | None = None
    failure: DraftFailed | None = None


def _one(review: Review, policy: Policy, drafter: Drafter, instruction: str | None) -> Drafted:
    try:
        return Drafted(review, draft=draft_review(review, policy, drafter, instruction))
    except DraftFailed as failure:
        return Drafted(review, failure=failure)


def draft_stream(reviews: Iterable[Review], policy: Policy, drafter: Drafter,
                 concurrency: int | None = None,
                 instruction: str | None = None) -> Iterator[Drafted]:
    """Draft each review, up to `concurrency` at once (default: the engine's setting)."""
    workers = max(1, concurrency or getattr(drafter, "concurrency", 1))
    if workers == 1:
        for review in reviews:
            yield _one(review, policy, drafter, instruction)
        return
    window: deque[Future[Drafted]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="draft") as pool:
        for review in reviews:
            window.append(pool.submit(_one, review, policy, drafter, instruction))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def draft_many(reviews: Iterable[Review], policy: Policy, drafter: Drafter,
               concurrency: int | None = None, instruction: str | None = None) -> list[Drafted]:
    return list(draft_stream(reviews, policy, drafter, concurrency, instruction))
