from __future__ import annotations

import logging
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from responses import matchers

from connectors.base import Review
from connectors.errors import AuthenticationError, NotFound, ReplyTooLong

from .support import ASC_BASE, ASC_REVIEWS, app_store, ec_pem, fixture

FIRST_PAGE = [matchers.query_param_matcher(
    {"sort": "-createdDate", "include": "response", "limit": "200"})]
REVIEW_ID = "00000029-8f1a-4c1d-9b8e-aaaaaaaaaaa2"


def review(review_id: str = REVIEW_ID) -> Review:
    return Review(platform="app_store", external_id=review_id, rating=3,
                  created_at=datetime(2026, 11, 19, 18, tzinfo=UTC))


def test_fetch_follows_links_next_verbatim_and_maps_responses(mocked, sleeps):
    mocked.get(ASC_REVIEWS, json=fixture("asc_reviews_page1.json"), match=FIRST_PAGE)
    second = mocked.get(fixture("asc_reviews_page1.json")["links"]["next"],
                        json=fixture("asc_reviews_page2.json"),
                        match=[matchers.query_string_matcher(
                            "cursor=Mi4w.AKqXa5E&include=response&limit=200&sort=-createdDate")])

    reviews = list(app_store(sleeps).fetch())

    assert second.call_count == 1
    assert [r.external_id[-3:] for r in reviews] == ["aa1", "aa2", "aa3"]
    charged, fine, love = reviews
    assert (charged.title, charged.rating, charged.author) == ("Charged twice", 1, "nightowl")
    assert charged.created_at == datetime(2026, 11, 20, 17, 15, tzinfo=UTC)
    assert charged.reply.text.startswith("We are sorry about the double charge")
    assert charged.metadata == {"territory": "USA", "response_id": "6c3f1a2e-resp-0001",
                                "reply_state": "pending_publish"}
    assert fine.reply is None and fine.metadata == {"territory": "DEU"}
    assert love.language is None and love.source == "1234567890"


def test_fetch_stops_at_the_sync_point(mocked, sleeps):
    mocked.get(ASC_REVIEWS, json=fixture("asc_reviews_page1.json"), match=FIRST_PAGE)

    reviews = list(app_store(sleeps).fetch(since="2026-11-19T18:00:00Z"))

    assert [r.external_id[-3:] for r in reviews] == ["aa1"]
    assert len(mocked.calls) == 1


def test_requests_carry_a_short_lived_es256_token(mocked, sleeps):
    mocked.get(ASC_REVIEWS, json=fixture("asc_reviews_page2.json"))

    list(app_store(sleeps).fetch())

    token = mocked.calls[0].request.headers["Authorization"].removeprefix("Bearer ")
    public = serialization.load_pem_private_key(ec_pem().encode(), None).public_key()
    claims = jwt.decode(token, public, algorithms=["ES256"], audience="appstoreconnect-v1")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": "2X9R4HXF34", "typ": "JWT"}
    assert claims["iss"] == "69a6de70-03db-47e3-e053-5b8c7c11a4d1"
    assert 0 < claims["exp"] - claims["iat"] <= 20 * 60


def test_401_remints_the_token_once_then_fails(mocked, sleeps):
    error = {"errors": [{"status": "401", "code": "NOT_AUTHORIZED",
                         "title": "Authentication credentials are missing or invalid."}]}
    mocked.get(ASC_REVIEWS, status=401, json=error)

    with pytest.raises(AuthenticationError, match="NOT_AUTHORIZED"):
        list(app_store(sleeps).fetch())
    assert len(mocked.calls) == 2 and sleeps.waits == []


def test_reply_posts_the_json_api_body_and_reports_pending_publish(mocked, sleeps):
    text = fixture("asc_response_created.json")["data"]["attributes"]["responseBody"]
    post = mocked.post(f"{ASC_BASE}/v1/customerReviewResponses", status=201,
                       json=fixture("asc_response_created.json"),
                       match=[matchers.json_params_matcher({"data": {
                           "type": "customerReviewResponses",
                           "attributes": {"responseBody": text},
                           "relationships": {"review": {"data": {
                               "type": "customerReviews", "id": REVIEW_ID}}}}})])

    posted = app_store(sleeps).post_reply(review(), text)

    assert post.call_count == 1
    assert posted.text == text and posted.state == "pending_publish"
    assert posted.platform_id == "6c3f1a2e-resp-0002"


def test_get_reply_reads_the_response_and_its_state(mocked, sleeps):
    review_id = "00000029-8f1a-4c1d-9b8e-aaaaaaaaaaa1"
    mocked.get(f"{ASC_BASE}/v1/customerReviews/{review_id}/response",
               json=fixture("asc_review_response.json"))

    reply = app_store(sleeps).get_reply(review(review_id))

    assert reply.state == "published" and reply.text.startswith("We are sorry")
    assert reply.updated_at == datetime(2026, 11, 21, 10, tzinfo=UTC)


def test_get_reply_is_none_when_the_review_has_no_response(mocked, sleeps):
    mocked.get(f"{ASC_BASE}/v1/customerReviews/{REVIEW_ID}/response", status=404,
               json=fixture("asc_error_404.json"))
    mocked.get(f"{ASC_BASE}/v1/customerReviews/{REVIEW_ID}", json=fixture("asc_review.json"))

    assert app_store(sleeps).get_reply(review()) is None


def test_get_reply_of_a_deleted_review_is_not_found(mocked, sleeps):
    mocked.get(f"{ASC_BASE}/v1/customerReviews/missing/response", status=404,
               json=fixture("asc_error_404.json"))
    mocked.get(f"{ASC_BASE}/v1/customerReviews/missing", status=404,
               json=fixture("asc_error_404.json"))

    with pytest.raises(NotFound, match="There is no resource of type 'customerReviews'"):
        app_store(sleeps).get_reply(review("missing"))


def test_reply_to_a_deleted_review_is_not_found(mocked, sleeps):
    mocked.post(f"{ASC_BASE}/v1/customerReviewResponses", status=404,
                json=fixture("asc_error_404.json"))

    with pytest.raises(NotFound) as caught:
        app_store(sleeps).post_reply(review("missing"), "Thank you")
    assert caught.value.status == 404 and len(mocked.calls) == 1


def test_reply_over_5970_characters_is_refused_before_any_request(mocked, sleeps):
    with pytest.raises(ReplyTooLong, match="5971 chars"):
        app_store(sleeps).post_reply(review(), "y" * 5971)
    assert len(mocked.calls) == 0


def test_a_bad_key_fails_without_echoing_it(mocked, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    connector = app_store(
        sleeps, private_key="-----BEGIN PRIVATE KEY-----\nnotakey\n-----END PRIVATE KEY-----")

    with pytest.raises(AuthenticationError, match="not a valid .p8") as caught:
        list(connector.fetch())
    assert "notakey" not in str(caught.value) + caplog.text + repr(connector)
    assert len(mocked.calls) == 0


def test_the_key_and_token_never_reach_logs_or_reprs(mocked, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    mocked.get(ASC_REVIEWS, status=503, json={"errors": [{"status": "503", "code": "UNAVAILABLE",
                                                          "title": "Down"}]})
    mocked.get(ASC_REVIEWS, json=fixture("asc_reviews_page2.json"))
    connector = app_store(sleeps)

    list(connector.fetch())

    token = mocked.calls[0].request.headers["Authorization"].removeprefix("Bearer ")
    shown = caplog.text + repr(connector) + repr(connector.http)
    assert "UNAVAILABLE" in caplog.text
    assert token not in shown and ec_pem().splitlines()[1] not in shown


def test_check_reports_the_review_count(mocked, sleeps):
    mocked.get(ASC_REVIEWS, json=fixture("asc_reviews_page2.json"),
               match=[matchers.query_param_matcher({"limit": "1"})])

    assert app_store(sleeps).check() == "OK: app 1234567890 is readable (3 reviews)"
