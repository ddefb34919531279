"""Reading review files: one JSON object per line, every bad line reported, none fatal.

Lines go through the same input boundary as the webhook (`connectors.untrusted`): strict UTF-8
per line, bounded nesting, no NUL or lone surrogates, so a file that cannot be stored is
refused line by line with the reason, and the good lines around it are kept.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from connectors.base import Review, ReviewError
from connectors.untrusted import InputError, decode_json


@dataclass(frozen=True)
class Rejected:
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.problem}"


def read_reviews(stream: IO[bytes] | IO[str]) -> Iterator[tuple[int, Review | Rejected]]:
    """Yield (line number, Review or Rejected) for every non-blank line.

    A review that appears twice (the same platform and external_id) is refused on its second
    line: storing both would record the second as the customer editing the first.
    """
    first_seen: dict[tuple[str, str], int] = {}
    lines: Iterable[bytes | str] = stream
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            review = Review.from_json(decode_json(line, field="json"))
        except (InputError, ReviewError) as exc:
            yield number, Rejected(number, exc.field, exc.problem)
            continue
        key = (review.platform, review.external_id)
        if key in first_seen:
            yield number, Rejected(number, "external_id",
                                   f"repeats line {first_seen[key]} ({review.external_id!r} on "
                                   f"{review.platform})")
            continue
        first_seen[key] = number
        yield number, review
