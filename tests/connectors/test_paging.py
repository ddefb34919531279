from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.base import Review
from connectors.paging import newer_than, newest_first, token_pages
from connectors.quota import MemoryQuota

START = datetime(2026, 11, 20, 12, tzinfo=UTC)


def reviews(*offsets: float, prefix: str = "r") -> list[Review]:
    return [Review(platform="other", external_id=f"{prefix}{i}", rating=3,
                   created_at=START - timedelta(seconds=offset))
            for i, offset in enumerate(offsets)]


def test_newer_than_compares_times_not_strings():
    # "…00Z" sorts after "…00.500000Z" as text, but is the earlier moment.
    items = reviews(-0.5, 0, 1)
    assert [r.external_id for r in newer_than(items, "2026-11-20T12:00:00Z")] == ["r0"]
    assert [r.external_id for r in newer_than(items, None)] == ["r0", "r1", "r2"]


def test_newer_than_stops_pulling_at_the_first_old_review():
    pulled = []

    def stream():
        for review in reviews(0, 10, 20, 30):
            pulled.append(review.external_id)
            yield review

    assert [r.external_id for r in newer_than(stream(), "2026-11-20T11:59:50+00:00")] == ["r0"]
    assert pulled == ["r0", "r1"]


def test_newest_first_merges_streams():
    merged = newest_first([iter(reviews(0, 20, prefix="a")), iter(reviews(10, 30, prefix="b"))])
    assert [r.external_id for r in merged] == ["a0", "b0", "a1", "b1"]


def test_token_pages_stop_on_a_missing_or_repeated_token():
    tokens = {None: "t1", "t1": "t2", "t2": "t1"}
    asked = []

    def fetch(token):
        asked.append(token)
        return {"next": tokens[token]}

    assert len(list(token_pages(fetch, lambda page: page["next"], "test"))) == 3
    assert asked == [None, "t1", "t2"]
    assert len(list(token_pages(lambda token: {}, lambda page: None, "test"))) == 1


def test_memory_quota_is_a_sliding_window_per_kind():
    now = [0.0]
    quota = MemoryQuota(clock=lambda: now[0])

    assert [quota.take("a", 2, 60) for _ in range(2)] == [0, 0]
    now[0] = 15.0
    assert quota.take("a", 2, 60) == 45.0
    assert quota.take("b", 2, 60) == 0
    now[0] = 60.0
    assert [quota.take("a", 2, 60) for _ in range(3)] == [0, 0, 60.0]
