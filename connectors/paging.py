"""Streaming reviews page by page, newest first, up to the sync point.

Everything here is a generator, so a connector holds one page at a time whatever the number of
reviews, and stopping early (the sync point) stops the requests too.
"""
from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from .base import Review, parse_time

log = logging.getLogger(__name__)


def sort_time(review: Review) -> datetime:
    """The time a platform orders its newest-first listings by, and the cursor is made of."""
    return review.updated_at or review.created_at


def newer_than(reviews: Iterable[Review], since: str | None) -> Iterator[Review]:
    """Yield reviews until the first one at or before the `since` cursor.

    Compared as datetimes, not strings: RFC 3339 strings with and without fractional seconds
    do not sort lexically.
    """
    limit = parse_time(since, "since")
    for review in reviews:
        if limit is not None and sort_time(review) <= limit:
            return
        yield review


def newest_first(streams: Iterable[Iterator[Review]]) -> Iterator[Review]:
    """Merge several newest-first streams (locations, storefronts) into one, lazily."""
    return heapq.merge(*streams, key=sort_time, reverse=True)


def token_pages(fetch: Callable[[str | None], dict[str, Any]],
                next_token: Callable[[dict[str, Any]], str | None],
                label: str) -> Iterator[dict[str, Any]]:
    """Yield pages while the platform hands out new tokens.

    A missing token ends the listing; a token seen before would loop for ever, so it ends the
    listing too, with a warning.
    """
    seen: set[str] = set()
    token: str | None = None
    while True:
        page = fetch(token)
        yield page
        token = next_token(page)
        if not token:
            return
        if token in seen:
            log.warning("%s repeated a page token; stopping the listing there", label)
            return
        seen.add(token)
