from __future__ import annotations

import logging
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from responses import matchers

from connectors.base import Review
from connectors.errors import AuthenticationError, NotFound, QuotaExhausted, ReplyTooLong
from connectors.quota import MemoryQuota

from .support import (
    ACCESS_TOKEN,
    PLAY_REVIEWS,
    TOKEN_URL,
    fixture,
    play,
    rsa_pem,
    service_account_info,
    token_form,
    token_response,
)


def pages(mocked, *names_and_tokens):
    """Register list pages, each matched by the token it is asked for."""
    for name, token in names_and_tokens:
        params = {"maxResults": "100"} | ({"token": token} if token else {})
        mocked.get(PLAY_REVIEWS, json=fixture(name) if isinstance(name, str) else name,
                   match=[matchers.query_param_matcher(params)])


def review(review_id: str) -> Review:
    return Review(platform="google_play", external_id=review_id, rating=1,
                  created_at=datetime(2026, 11, 1, tzinfo=UTC))


def test_fetch_reads_every_page_and_maps_the_fields(mocked, sleeps):
    token_response(mocked)
    pages(mocked, ("play_reviews_page1.json", None), ("play_reviews_page2.json", "page-2"))

    reviews = list(play(sleeps).fetch())

    assert [r.external_id for r in reviews] == [
        "gp:AOqpTOH1-first", "gp:AOqpTOH2-second", "gp:AOqpTOH3-third", "gp:AOqpTOH4-fourth"]
    first, second, third, _ = reviews
    assert (first.title, first.text) == (
        "Crashes on start", "Since the update the app closes immediately & I lost my notes.")
    assert (first.rating, first.author, first.source) == (1, "Jana Novak", "com.example.budget")
    assert first.language is None and first.metadata["reviewer_language"] == "de"
    assert first.metadata["app_version_name"] == "4.2.13" and first.metadata["thumbs_down"] == 0
    assert first.metadata["device_metadata"]["manufacturer"] == "Google"
    assert first.updated_at == datetime(2025, 11, 23, 12, 13, 20, 713000, tzinfo=UTC)
    assert (second.title, second.text) == ("", "Good app but sync is slow")
    assert second.reply.text == "Thanks Sam, faster sync ships next week."
    assert second.reply.updated_at == datetime(2025, 11, 22, 22, 20, 0, 500000, tzinfo=UTC)
    assert third.author == "LiWei" and third.updated_at.microsecond == 1
    assert all(call.request.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"
               for call in mocked.calls if call.request.url.startswith(PLAY_REVIEWS))


def test_fetch_stops_at_the_sync_point_without_reading_further_pages(mocked, sleeps):
    token_response(mocked)
    pages(mocked, ("play_reviews_page1.json", None))
    connector = play(sleeps)
    newest = fixture("play_reviews_page1.json")["reviews"][1]["comments"][0]["userComment"]
    since = datetime.fromtimestamp(int(newest["lastModified"]["seconds"]), UTC)

    reviews = list(connector.fetch(since=since.isoformat()))

    assert [r.external_id for r in reviews] == ["gp:AOqpTOH1-first"]
    assert len(mocked.calls) == 2  # token + first page


def test_cursor_round_trips_through_fetch(mocked, sleeps):
    token_response(mocked)
    pages(mocked, ("play_reviews_page1.json", None))
    connector = play(sleeps)
    first = next(iter(connector.fetch()))
    mocked.reset()
    pages(mocked, ("play_reviews_page1.json", None))

    # A second connector for the same account reuses the access token: no token request.
    assert list(play(sleeps).fetch(since=connector.cursor_of(first))) == []
    assert not any(call.request.url == TOKEN_URL for call in mocked.calls)


@pytest.mark.parametrize("second_page", [
    {"reviews": [], "tokenPagination": {"nextPageToken": "page-2"}},
    {"reviews": [], "tokenPagination": {}},
])
def test_a_repeated_or_missing_token_ends_the_listing(mocked, sleeps, second_page):
    token_response(mocked)
    pages(mocked, ("play_reviews_page1.json", None), (second_page, "page-2"))

    assert len(list(play(sleeps).fetch())) == 2
    assert sum(call.request.url.startswith(PLAY_REVIEWS) for call in mocked.calls) == 2


def test_service_account_grant_goes_to_the_overridden_token_url(mocked, sleeps):
    """google-auth signs for Google's audience whatever the endpoint; the request goes to ours."""
    token = token_response(mocked)
    pages(mocked, ("play_reviews_page2.json", None))

    list(play(sleeps).fetch())

    form = token_form(token)
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    public = serialization.load_pem_private_key(rsa_pem().encode(), None).public_key()
    claims = jwt.decode(form["assertion"][0], public, algorithms=["RS256"],
                        audience="https://oauth2.googleapis.com/token")
    assert claims["scope"] == "https://www.googleapis.com/auth/androidpublisher"
    assert claims["iss"] == "replies@makeright-test.iam.gserviceaccount.com"


def test_401_refreshes_once_and_retries_once(mocked, sleeps):
    token = token_response(mocked)
    mocked.get(PLAY_REVIEWS, status=401, json={"error": {"code": 401, "message": "expired",
                                                        "status": "UNAUTHENTICATED"}})
    pages(mocked, ("play_reviews_page2.json", None))

    assert len(list(play(sleeps).fetch())) == 2
    assert token.call_count == 2  # the first token, then exactly one refresh
    assert sum(call.request.url.startswith(PLAY_REVIEWS) for call in mocked.calls) == 2


def test_401_after_the_refresh_fails_without_more_tries(mocked, sleeps):
    token = token_response(mocked)
    mocked.get(PLAY_REVIEWS, status=401, json={"error": {"code": 401, "message": "revoked",
                                                        "status": "UNAUTHENTICATED"}})

    with pytest.raises(AuthenticationError, match="revoked"):
        list(play(sleeps).fetch())
    assert token.call_count == 2
    assert sum(call.request.url.startswith(PLAY_REVIEWS) for call in mocked.calls) == 2


def test_token_endpoint_refusal_is_an_authentication_error_without_secrets(mocked, sleeps):
    mocked.post(TOKEN_URL, status=400, json={"error": "invalid_grant",
                                             "error_description": "Invalid JWT Signature."})

    with pytest.raises(AuthenticationError) as caught:
        list(play(sleeps).fetch())
    assert "invalid_grant" in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value)


def test_reply_posts_reply_text_and_reads_back(mocked, sleeps):
    token_response(mocked)
    text = fixture("play_reply_response.json")["result"]["replyText"]
    post = mocked.post(f"{PLAY_REVIEWS}/gp%3AAOqpTOH1-first:reply",
                       json=fixture("play_reply_response.json"),
                       match=[matchers.json_params_matcher({"replyText": text})])
    mocked.get(f"{PLAY_REVIEWS}/gp%3AAOqpTOH2-second", json=fixture("play_review_get.json"))
    connector = play(sleeps)

    posted = connector.post_reply(review("gp:AOqpTOH1-first"), text)
    read = connector.get_reply(review("gp:AOqpTOH2-second"))

    assert post.call_count == 1
    assert posted.text == text and posted.state == "published"
    assert posted.updated_at == datetime(2025, 11, 23, 15, 0, 0, 250000, tzinfo=UTC)
    assert read.text == "Thanks Sam, faster sync ships next week."


def test_get_reply_is_none_without_a_developer_comment(mocked, sleeps):
    token_response(mocked)
    raw = fixture("play_review_get.json")
    raw["comments"] = raw["comments"][:1]
    mocked.get(f"{PLAY_REVIEWS}/gp%3AAOqpTOH2-second", json=raw)

    assert play(sleeps).get_reply(review("gp:AOqpTOH2-second")) is None


def test_reply_to_a_deleted_review_is_not_found(mocked, sleeps):
    token_response(mocked)
    mocked.post(f"{PLAY_REVIEWS}/gone:reply", status=404,
                json={"error": {"code": 404, "message": "Review not found.",
                                "status": "NOT_FOUND"}})

    with pytest.raises(NotFound, match="Review not found"):
        play(sleeps).post_reply(review("gone"), "Thank you")
    assert len(mocked.calls) == 2 and sleeps.waits == []


def test_reply_over_350_characters_is_refused_before_any_request(mocked, sleeps):
    quota = MemoryQuota()
    connector = play(sleeps, quota=quota)

    with pytest.raises(ReplyTooLong, match="351 chars"):
        connector.post_reply(review("gp:1"), "x" * 351)
    assert len(mocked.calls) == 0
    assert quota.take("google_play:com.example.budget:reply", 1, 86400) == 0


def test_read_quota_stops_the_listing_before_google_does(mocked, sleeps):
    token_response(mocked)
    pages(mocked, ("play_reviews_page1.json", None))
    connector = play(sleeps, read_quota_per_hour=1)

    fetched = []
    with pytest.raises(QuotaExhausted) as caught:
        for item in connector.fetch():
            fetched.append(item)

    assert len(fetched) == 2  # the first page arrived; the second would go over
    assert "read quota for com.example.budget (1 per hour)" in str(caught.value)
    assert 0 < caught.value.retry_after <= 3600


def test_reply_quota_is_per_day_and_frees_up_as_the_window_slides(mocked, sleeps):
    now = [0.0]
    quota = MemoryQuota(clock=lambda: now[0])
    token_response(mocked)
    mocked.post(f"{PLAY_REVIEWS}/gp%3A1:reply", json=fixture("play_reply_response.json"))
    connector = play(sleeps, quota=quota, reply_quota_per_day=1)

    connector.post_reply(review("gp:1"), "Thanks")
    now[0] = 3600.0
    with pytest.raises(QuotaExhausted) as caught:
        connector.post_reply(review("gp:1"), "Thanks")
    assert caught.value.retry_after == 86400 - 3600
    assert "reply quota" in str(caught.value)

    now[0] = 86401.0
    mocked.post(f"{PLAY_REVIEWS}/gp%3A1:reply", json=fixture("play_reply_response.json"))
    connector.post_reply(review("gp:1"), "Thanks")


def test_secrets_stay_out_of_logs_reprs_and_errors(mocked, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    token_response(mocked)
    mocked.get(PLAY_REVIEWS, status=500, json={"error": {"code": 500, "message": "boom"}})
    mocked.get(PLAY_REVIEWS, status=403, json={"error": {"code": 403, "message": "denied"}})
    connector = play(sleeps)

    with pytest.raises(Exception) as caught:
        list(connector.fetch())

    key_body = rsa_pem().splitlines()[1]
    shown = caplog.text + repr(connector) + str(caught.value)
    assert "boom" in caplog.text  # the retry was logged
    assert key_body not in shown and ACCESS_TOKEN not in shown
    assert "service_account_json=***" in repr(connector)


def test_unusable_service_account_json_is_refused_without_echoing_it(sleeps):
    with pytest.raises(ValueError) as caught:
        play(sleeps, service_account_json='{"private_key": "-----BEGIN PRIVATE KEY-----abc"}')
    assert "service_account_json" in str(caught.value) and "abc" not in str(caught.value)


def test_settings_are_checked_against_the_schema(sleeps):
    with pytest.raises(ValueError, match="package_name"):
        play(sleeps, package_name="not a package")
    with pytest.raises(ValueError, match="service_account_json") as caught:
        play(sleeps, service_account_json=12345)
    assert "12345" not in str(caught.value)


def test_check_makes_one_authenticated_call(mocked, sleeps):
    token_response(mocked)
    mocked.get(PLAY_REVIEWS, json={"reviews": []},
               match=[matchers.query_param_matcher({"maxResults": "1"})])

    assert play(sleeps).check().startswith("OK: reviews of com.example.budget are readable")


def test_service_account_json_may_be_an_object(mocked, sleeps):
    token_response(mocked)
    pages(mocked, ("play_reviews_page2.json", None))

    assert len(list(play(sleeps, service_account_json=service_account_info()).fetch())) == 2


def test_one_refresh_per_call_even_across_retries(mocked, sleeps):
    token = token_response(mocked)
    unauthenticated = {"error": {"code": 401, "message": "expired", "status": "UNAUTHENTICATED"}}
    mocked.get(PLAY_REVIEWS, status=401, json=unauthenticated)
    mocked.get(PLAY_REVIEWS, status=500, json={"error": {"code": 500, "message": "backend"}})
    mocked.get(PLAY_REVIEWS, status=401, json=unauthenticated)

    with pytest.raises(AuthenticationError):
        list(play(sleeps).fetch())
    assert token.call_count == 2
