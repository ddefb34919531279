"""Reading review files: one JSON object per line, every bad line reported, none fatal."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from connectors.base import Review, ReviewError


@dataclass(frozen=True)
class Rejected:
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.problem}"


def read_reviews(stream: IO[str]) -> Iterator[tuple[int, Review | Rejected]]:
    """Yield (line number, Review or Rejected) for every non-blank line."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, Rejected(number, "json", f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        try:
            yield number, Review.from_json(data)
        except ReviewError as exc:
            yield number, Rejected(number, exc.field, exc.problem)
