"""Rate limits as the platforms state them: Apple's X-Rate-Limit header, Retry-After on any
answer, and Google's documented per-minute quotas counted before a request is sent."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import Review
from connectors.errors import QuotaExhausted, TransientError
from connectors.quota import MemoryQuota
from connectors.rate_limits import HourlyBudgets, parse_rate_limit

from .support import (
    ASC_BASE,
    ASC_REVIEWS,
    GBP_BASE,
    GBP_LOCATION,
    PLAY_REVIEWS,
    app_store,
    business,
    fixture,
    play,
    token_response,
)

REVIEW_ID = "00000029-8f1a-4c1d-9b8e-aaaaaaaaaaa2"


def review() -> Review:
    return Review(platform="app_store", external_id=REVIEW_ID, rating=1,
                  created_at=datetime(2026, 11, 19, 18, tzinfo=UTC))


@pytest.mark.parametrize("value, expected", [
    ("user-hour-lim:3500;user-hour-rem:500;", (3500, 500)),
    ("user-hour-lim:3600; user-hour-rem:0", (3600, 0)),
    ("user-hour-lim:3500;", None),
    ("", None),
])
def test_x_rate_limit_is_read_as_apple_documents_it(value, expected):
    # https://developer.apple.com/documentation/appstoreconnectapi/identifying-rate-limits
    assert parse_rate_limit(value) == expected


def test_app_store_stops_before_apple_refuses_when_the_hour_is_nearly_spent(mocked, sleeps):
    first = mocked.get(f"{ASC_BASE}/v1/customerReviews/{REVIEW_ID}/response",
                       json=fixture("asc_review_response.json"),
                       headers={"X-Rate-Limit": "user-hour-lim:3500;user-hour-rem:10;"})
    connector = app_store(sleeps)

    connector.get_reply(review())
    with pytest.raises(QuotaExhausted, match="10 of 3500 requests left") as refused:
        app_store(sleeps).get_reply(review())  # a new connector: the budget is per key

    assert first.call_count == 1  # the second call never left
    assert 60 <= refused.value.retry_after <= 3600


def test_a_budget_seen_an_hour_ago_no_longer_holds():
    now = [0.0]
    budgets = HourlyBudgets(clock=lambda: now[0])
    budgets.record("key", "user-hour-lim:3500;user-hour-rem:0;")
    with pytest.raises(QuotaExhausted):
        budgets.check("key", 0, "App Store Connect")
    now[0] = 3600.0
    budgets.check("key", 0, "App Store Connect")


def test_retry_after_on_a_503_is_honoured_for_reads(mocked, sleeps):
    mocked.get(ASC_REVIEWS, status=503, headers={"Retry-After": "7"},
               json={"errors": [{"status": "503", "code": "SERVICE_UNAVAILABLE",
                                 "title": "The service is unavailable"}]})
    mocked.get(ASC_REVIEWS, json=fixture("asc_reviews_page2.json"))

    list(app_store(sleeps).fetch())

    assert len(sleeps.waits) == 1 and sleeps.waits[0] >= 7


def test_retry_after_rides_on_the_error_a_worker_sees(mocked, sleeps):
    mocked.get(f"{ASC_BASE}/v1/customerReviews/{REVIEW_ID}/response", status=503,
               headers={"Retry-After": "900"}, json={"errors": [{
                   "status": "503", "code": "SERVICE_UNAVAILABLE", "title": "Try later"}]})

    with pytest.raises(TransientError) as failed:
        app_store(sleeps).get_reply(review())

    assert failed.value.retry_after == 900 and sleeps.waits == []


def test_business_profile_counts_300_queries_a_minute_across_connectors(mocked, sleeps):
    """Connectors are built per job; the count is the project's, shared through the counter."""
    token_response(mocked)
    page = mocked.get(f"{GBP_BASE}/{GBP_LOCATION}/reviews",
                      json=fixture("gbp_reviews_page2.json"))
    assert business(sleeps).setting("queries_per_minute") == 300
    shared = MemoryQuota()

    list(business(sleeps, shared, queries_per_minute=2).fetch())
    list(business(sleeps, shared, queries_per_minute=2).fetch())
    with pytest.raises(QuotaExhausted):
        list(business(sleeps, shared, queries_per_minute=2).fetch())
    assert page.call_count == 2


def test_business_profile_waits_when_its_minute_is_used_up(mocked, sleeps):
    token_response(mocked)
    page = mocked.get(f"{GBP_BASE}/{GBP_LOCATION}/reviews",
                      json=fixture("gbp_reviews_page2.json"))
    connector = business(sleeps, queries_per_minute=2)

    list(connector.fetch())
    list(connector.fetch())
    with pytest.raises(QuotaExhausted, match="2 queries a minute") as refused:
        list(connector.fetch())

    assert page.call_count == 2 and 0 < refused.value.retry_after <= 60


def test_play_has_a_per_minute_bucket_besides_its_per_app_quotas(mocked, sleeps):
    token_response(mocked)
    listing = mocked.get(PLAY_REVIEWS, json=fixture("play_reviews_page2.json"))
    assert play(sleeps).setting("queries_per_minute") == 3000

    connector = play(sleeps, queries_per_minute=1)
    list(connector.fetch())
    with pytest.raises(QuotaExhausted, match="1 queries a minute"):
        list(connector.fetch())
    assert listing.call_count == 1
