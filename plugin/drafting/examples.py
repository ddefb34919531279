"""Approved replies shown to the LLM as the house voice, and how similar ones are chosen.

Where examples come from is a parameter (a provider), so the engine works without a database
and the store supplies the real ones: approved replies, those a person edited first.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from connectors.base import Review

from ..classify import Classification


@dataclass(frozen=True)
class Example:
    """An approved reply to an earlier review."""

    rating: int
    language: str
    categories: tuple[str, ...]
    review: str
    reply: str


class ExampleProvider(Protocol):
    def __call__(self, review: Review, classification: Classification,
                 limit: int) -> Sequence[Example]: ...


def select_examples(candidates: Sequence[Example], language: str | None, rating: int,
                    categories: Sequence[str], limit: int = 3) -> list[Example]:
    """Up to `limit` candidates, in the order given (callers pass preferred first), written for
    a similar review: same language, rating within one star, and overlapping problems (or no
    problems on either side, so praise is answered like praise)."""
    wanted = set(categories)
    chosen: list[Example] = []
    for example in candidates:
        if example.language != language or abs(example.rating - rating) > 1:
            continue
        if wanted and not wanted.intersection(example.categories):
            continue
        if not wanted and example.categories:
            continue
        chosen.append(example)
        if len(chosen) >= limit:
            break
    return chosen


class StaticExamples:
    """Examples from a fixed list, filtered per review (tests, evaluation, a seed corpus)."""

    def __init__(self, examples: Sequence[Example]):
        self.examples = list(examples)

    def __call__(self, review: Review, classification: Classification,
                 limit: int) -> list[Example]:
        return select_examples(self.examples, classification.language, review.rating,
                               classification.categories, limit)
