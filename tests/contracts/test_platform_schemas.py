"""Fixtures and request bodies against the platforms' own schemas.

The fixtures under tests/connectors/fixtures feed the HTTP tests; validating them here keeps
those tests honest about what the platforms actually send. Request bodies are captured from the
connectors themselves, so a change to what they send is checked against what the API accepts.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses

from connectors.base import Review
from tests.connectors.support import (
    ASC_BASE,
    GBP_BASE,
    PLAY_REVIEWS,
    Sleeps,
    app_store,
    business,
    fixture,
    play,
    token_response,
)

from . import schemas

FIXTURES = Path(__file__).parents[1] / "connectors" / "fixtures"

CONTRACTS = {
    "play_reviews_page1.json": (schemas.play, "ReviewsListResponse"),
    "play_reviews_page2.json": (schemas.play, "ReviewsListResponse"),
    "play_review_get.json": (schemas.play, "Review"),
    "play_reply_response.json": (schemas.play, "ReviewsReplyResponse"),
    "asc_reviews_page1.json": (schemas.app_store, "CustomerReviewsResponse"),
    "asc_reviews_page2.json": (schemas.app_store, "CustomerReviewsResponse"),
    "asc_review.json": (schemas.app_store, "CustomerReviewResponse"),
    "asc_response_created.json": (schemas.app_store, "CustomerReviewResponseV1Response"),
    "asc_review_response.json": (schemas.app_store, "CustomerReviewResponseV1Response"),
    "asc_error_403.json": (schemas.app_store, "ErrorResponse"),
    "asc_error_404.json": (schemas.app_store, "ErrorResponse"),
    "asc_error_429.json": (schemas.app_store, "ErrorResponse"),
    "gbp_reviews_page1.json": (schemas.google_business, "ListReviewsResponse"),
    "gbp_reviews_page2.json": (schemas.google_business, "ListReviewsResponse"),
    "gbp_reviews_location2.json": (schemas.google_business, "ListReviewsResponse"),
    "gbp_review.json": (schemas.google_business, "Review"),
    "gbp_reply.json": (schemas.google_business, "ReviewReply"),
    "google_error_403.json": (schemas.google_business, "ErrorResponse"),
    "google_error_429.json": (schemas.google_business, "ErrorResponse"),
}
#: Apple's public feed has no published schema; its shape is covered by the feed tests.
UNSCHEMED = {"feed_page1.json", "feed_single_entry.json", "feed_empty.json"}


def errors(validator, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(instance)]


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_fixture_matches_the_platform_schema(name):
    build, schema = CONTRACTS[name]
    assert errors(build(schema), fixture(name)) == []


def test_every_fixture_has_a_contract():
    present = {path.name for path in FIXTURES.glob("*.json")}
    assert present == set(CONTRACTS) | UNSCHEMED


@pytest.mark.parametrize("build, schema, instance, problem", [
    (schemas.play, "Timestamp", {"seconds": 1763900000}, "is not of type 'string'"),
    (schemas.play, "Timestamp", {"seconds": "soon"}, "is not a 'int64'"),
    (schemas.play, "UserComment", {"starRatting": 5}, "Additional properties"),
    (schemas.play, "ReviewsReplyRequest", {"text": "hi"}, "Additional properties"),
    (schemas.app_store, "CustomerReview", {"type": "customerReviews"}, "'id' is a required"),
    (schemas.app_store, "CustomerReview",
     {"type": "customerReviews", "id": "1", "attributes": {"territory": "US"}}, "is not one of"),
    (schemas.app_store, "CustomerReview",
     {"type": "customerReviews", "id": "1", "attributes": {"createdDate": "yesterday"}},
     "is not a 'date-time'"),
    (schemas.app_store, "CustomerReviewResponseV1CreateRequest",
     {"data": {"type": "customerReviewResponses", "attributes": {"responseBody": "x"}}},
     "'relationships' is a required"),
    (schemas.google_business, "Review",
     {"name": "accounts/1/locations/2/reviews/3", "reviewId": "3", "starRating": 4,
      "createTime": "2026-11-01T00:00:00Z", "updateTime": "2026-11-01T00:00:00Z"},
     "is not one of"),
])
def test_the_validators_reject_what_the_platforms_would(build, schema, instance, problem):
    assert any(problem in message for message in errors(build(schema), instance))


def sent_json(call) -> dict:
    return json.loads(call.request.body)


def review(platform: str, external_id: str) -> Review:
    return Review(platform=platform, external_id=external_id, rating=1,
                  created_at=datetime(2026, 11, 1, tzinfo=UTC))


def test_play_reply_body_is_a_reviews_reply_request():
    with responses.RequestsMock() as mocked:
        token_response(mocked)
        post = mocked.post(f"{PLAY_REVIEWS}/gp%3A1:reply", json=fixture("play_reply_response.json"))
        play(Sleeps()).post_reply(review("google_play", "gp:1"), "Sorry about the crash.")

    assert errors(schemas.play("ReviewsReplyRequest"), sent_json(post.calls[0])) == []


def test_app_store_reply_body_is_a_create_request():
    with responses.RequestsMock() as mocked:
        post = mocked.post(f"{ASC_BASE}/v1/customerReviewResponses", status=201,
                           json=fixture("asc_response_created.json"))
        app_store(Sleeps()).post_reply(review("app_store", "00000029-aaa2"), "Thank you.")

    body = sent_json(post.calls[0])
    assert errors(schemas.app_store("CustomerReviewResponseV1CreateRequest"), body) == []


def test_google_business_reply_body_is_an_update_reply_request():
    name = "accounts/111/locations/222/reviews/AbFvOqn-rev1"
    with responses.RequestsMock() as mocked:
        token_response(mocked)
        put = mocked.put(f"{GBP_BASE}/{name}/reply", json=fixture("gbp_reply.json"))
        business(Sleeps()).post_reply(review("google_business", name), "We are sorry, Jane.")

    assert errors(schemas.google_business("UpdateReplyRequest"), sent_json(put.calls[0])) == []
