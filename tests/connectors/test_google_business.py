from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from responses import matchers

from connectors.base import Review
from connectors.errors import AuthenticationError, NotFound, ReplyTooLong

from .support import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    GBP_BASE,
    GBP_LOCATION,
    REFRESH_TOKEN,
    business,
    fixture,
    token_form,
    token_response,
)

REVIEWS = f"{GBP_BASE}/{GBP_LOCATION}/reviews"
SECOND_LOCATION = "accounts/111/locations/333"


def pages(mocked, location: str, *names_and_tokens):
    for name, token in names_and_tokens:
        params = {"pageSize": "50", "orderBy": "updateTime desc"}
        if token:
            params["pageToken"] = token
        mocked.get(f"{GBP_BASE}/{location}/reviews", json=fixture(name),
                   match=[matchers.query_param_matcher(params)])


def review(name: str) -> Review:
    return Review(platform="google_business", external_id=name, rating=2,
                  created_at=datetime(2026, 11, 1, tzinfo=UTC))


def test_fetch_reads_every_page_newest_update_first(mocked, sleeps):
    token = token_response(mocked)
    pages(mocked, GBP_LOCATION, ("gbp_reviews_page1.json", None),
          ("gbp_reviews_page2.json", "CgwI-page-2"))

    reviews = list(business(sleeps).fetch())

    assert [r.external_id.rsplit("/", 1)[1] for r in reviews] == [
        "AbFvOqn-rev1", "AbFvOqn-rev2", "AbFvOqn-rev3"]
    jane, anonymous, omar = reviews
    assert jane.rating == 2 and jane.author == "Jane Doe" and jane.first_name == "Jane"
    assert jane.text == "Waited 40 minutes for a cold pizza.\nNot again."
    assert jane.external_id == "accounts/111/locations/222/reviews/AbFvOqn-rev1"
    assert jane.created_at == datetime(2026, 11, 20, 19, 1, 23, 45123, tzinfo=UTC)
    assert jane.metadata["media_items"] == 1 and jane.reply is None
    assert anonymous.author == "" and anonymous.metadata["anonymous"] is True
    assert anonymous.text == "" and anonymous.rating == 5
    assert anonymous.reply.text == "Thank you for the stars!"
    assert anonymous.metadata["reply_state"] == "pending"
    assert omar.metadata["reply_state"] == "rejected"
    assert omar.metadata["reply_policy_violation"] == "OFF_TOPIC"
    form = token_form(token)
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [REFRESH_TOKEN]


def test_fetch_stops_at_the_sync_point(mocked, sleeps):
    token_response(mocked)
    pages(mocked, GBP_LOCATION, ("gbp_reviews_page1.json", None))

    reviews = list(business(sleeps).fetch(since="2026-11-18T12:00:00Z"))

    assert [r.external_id.rsplit("/", 1)[1] for r in reviews] == ["AbFvOqn-rev1"]


def test_several_locations_merge_into_one_newest_first_stream(mocked, sleeps):
    token_response(mocked)
    pages(mocked, GBP_LOCATION, ("gbp_reviews_page1.json", None),
          ("gbp_reviews_page2.json", "CgwI-page-2"))
    pages(mocked, SECOND_LOCATION, ("gbp_reviews_location2.json", None))

    reviews = list(business(sleeps, locations=[GBP_LOCATION, SECOND_LOCATION]).fetch())

    assert [r.external_id.rsplit("/", 1)[1] for r in reviews] == [
        "AbFvOqn-rev1", "Xy-rev9", "AbFvOqn-rev2", "AbFvOqn-rev3"]
    assert reviews[1].source == SECOND_LOCATION


def test_unknown_fields_are_accepted_and_unrated_reviews_skipped(mocked, sleeps, caplog):
    token_response(mocked)
    page = fixture("gbp_reviews_page2.json")
    page["reviews"][0]["someFutureField"] = {"x": 1}
    page["reviews"].append(dict(page["reviews"][0], name="accounts/111/locations/222/reviews/u",
                                starRating="STAR_RATING_UNSPECIFIED"))
    mocked.get(REVIEWS, json=page)

    reviews = list(business(sleeps).fetch())

    assert [r.external_id.rsplit("/", 1)[1] for r in reviews] == ["AbFvOqn-rev3"]
    assert "STAR_RATING_UNSPECIFIED" in caplog.text


def test_401_refreshes_once_and_retries_once(mocked, sleeps):
    token = token_response(mocked)
    mocked.get(REVIEWS, status=401, json={"error": {"code": 401, "status": "UNAUTHENTICATED",
                                                   "message": "Request had invalid credentials."}})
    pages(mocked, GBP_LOCATION, ("gbp_reviews_page2.json", None))

    assert len(list(business(sleeps).fetch())) == 1
    assert token.call_count == 2
    assert sum(call.request.url.startswith(REVIEWS) for call in mocked.calls) == 2


def test_revoked_refresh_token_is_an_authentication_error(mocked, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    mocked.post("https://oauth2.test/token", status=400, json={
        "error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    connector = business(sleeps)

    with pytest.raises(AuthenticationError, match="expired or revoked") as caught:
        list(connector.fetch())

    shown = caplog.text + str(caught.value) + repr(connector)
    assert REFRESH_TOKEN not in shown and CLIENT_SECRET not in shown
    assert "refresh_token=***" in repr(connector) and "client_secret=***" in repr(connector)


def test_reply_puts_the_comment_and_reports_moderation(mocked, sleeps):
    token_response(mocked)
    name = "accounts/111/locations/222/reviews/AbFvOqn-rev1"
    text = fixture("gbp_reply.json")["comment"]
    put = mocked.put(f"{GBP_BASE}/{name}/reply", json=fixture("gbp_reply.json"),
                     match=[matchers.json_params_matcher({"comment": text})])

    posted = business(sleeps).post_reply(review(name), text)

    assert put.call_count == 1
    assert posted.text == text and posted.state == "published"
    assert posted.updated_at == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert put.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_get_reply_reads_the_review(mocked, sleeps):
    token_response(mocked)
    name = "accounts/111/locations/222/reviews/AbFvOqn-rev2"
    mocked.get(f"{GBP_BASE}/{name}", json=fixture("gbp_review.json"))
    without = dict(fixture("gbp_review.json"))
    del without["reviewReply"]
    mocked.get(f"{GBP_BASE}/{name}", json=without)
    connector = business(sleeps)

    reply = connector.get_reply(review(name))

    assert reply.text == "Thank you for the stars!" and reply.state == "pending"
    assert connector.get_reply(review(name)) is None


def test_reply_to_a_deleted_review_is_not_found(mocked, sleeps):
    token_response(mocked)
    name = "accounts/111/locations/222/reviews/gone"
    mocked.put(f"{GBP_BASE}/{name}/reply", status=404, json={
        "error": {"code": 404, "message": "Requested entity was not found.",
                  "status": "NOT_FOUND"}})

    with pytest.raises(NotFound, match="Requested entity was not found"):
        business(sleeps).post_reply(review(name), "Thank you")
    assert sleeps.waits == []


def test_reply_limit_counts_utf8_bytes_and_is_checked_before_any_request(mocked, sleeps):
    text = "€" * 1366  # 1,366 characters, 4,098 bytes

    with pytest.raises(ReplyTooLong, match="4098 bytes"):
        business(sleeps).post_reply(review("accounts/1/locations/2/reviews/3"), text)
    assert len(mocked.calls) == 0


def test_locations_must_be_resource_names(sleeps):
    with pytest.raises(ValueError, match="locations.0"):
        business(sleeps, locations=["222"])


def test_check_reports_the_location(mocked, sleeps):
    token_response(mocked)
    mocked.get(REVIEWS, json={"averageRating": 3.9, "totalReviewCount": 3},
               match=[matchers.query_param_matcher({"pageSize": "1"})])

    assert business(sleeps).check() == f"OK: {GBP_LOCATION} has 3 reviews (average 3.9)"


def test_an_expired_token_is_refreshed_before_the_next_request(mocked, sleeps):
    # google-auth treats a token as expired a few minutes early; one second is already stale.
    token = mocked.post("https://oauth2.test/token", json={
        "access_token": ACCESS_TOKEN, "expires_in": 1, "token_type": "Bearer"})
    pages(mocked, GBP_LOCATION, ("gbp_reviews_page1.json", None),
          ("gbp_reviews_page2.json", "CgwI-page-2"))

    assert len(list(business(sleeps).fetch())) == 3
    assert token.call_count == 2


def test_fetch_review_reads_one_review_by_name(mocked, sleeps):
    """What a Pub/Sub notification triggers: the named review, fetched at once."""
    token_response(mocked)
    name = "accounts/111/locations/222/reviews/AbFvOqn-rev2"
    mocked.get(f"{GBP_BASE}/{name}", json=fixture("gbp_review.json"))

    found = business(sleeps).fetch_review(name)

    assert found.external_id == name and found.platform == "google_business"
    assert found.metadata["location"] == "accounts/111/locations/222"
    assert found.reply is not None and found.reply.text == "Thank you for the stars!"


def test_the_access_token_is_fetched_once_per_source_until_it_expires(mocked, sleeps):
    """Connectors are built per post; the token endpoint is asked once, not once a post."""
    token = token_response(mocked)
    names = [f"accounts/111/locations/222/reviews/r{n}" for n in range(3)]
    for name in names:
        mocked.put(f"{GBP_BASE}/{name}/reply", json=fixture("gbp_reply.json"))

    for name in names:
        business(sleeps).post_reply(review(name), "Thank you, we are sorry.")

    assert token.call_count == 1
    other = business(sleeps, client_id="client-2.apps.googleusercontent.com")
    mocked.put(f"{GBP_BASE}/{names[0]}/reply", json=fixture("gbp_reply.json"))
    other.post_reply(review(names[0]), "Thank you.")
    assert token.call_count == 2  # other credentials, their own token


def test_a_refused_cached_token_is_replaced_not_reused(mocked, sleeps):
    token_response(mocked, "ya29.first")
    name = "accounts/111/locations/222/reviews/r1"
    mocked.put(f"{GBP_BASE}/{name}/reply", json=fixture("gbp_reply.json"))
    business(sleeps).post_reply(review(name), "Thank you.")
    mocked.reset()
    fresh = token_response(mocked, "ya29.second")
    mocked.put(f"{GBP_BASE}/{name}/reply", status=401, json={"error": {"message": "revoked"}})
    accepted = mocked.put(f"{GBP_BASE}/{name}/reply", json=fixture("gbp_reply.json"))

    business(sleeps).post_reply(review(name), "Thank you.")
    assert fresh.call_count == 1
    assert accepted.calls[0].request.headers["Authorization"] == "Bearer ya29.second"
    mocked.reset()
    again = mocked.put(f"{GBP_BASE}/{name}/reply", json=fixture("gbp_reply.json"))
    business(sleeps).post_reply(review(name), "Thank you.")
    assert again.calls[0].request.headers["Authorization"] == "Bearer ya29.second"


@pytest.mark.parametrize("reply, state, public, reason", [
    ({"state": "PENDING"}, "pending", "posted", None),
    ({"reviewReplyState": "APPROVED"}, "approved", "published", None),
    ({"state": "REJECTED", "policyViolation": "REPETITIVE"}, "rejected", "rejected",
     "REPETITIVE"),
    ({"reviewReplyState": "REJECTED", "policyViolation": "PERSONAL_INFO"}, "rejected",
     "rejected", "PERSONAL_INFO"),
    ({"state": "STATE_UNSPECIFIED"}, "published", "published", None),
    ({}, "published", "published", None),
])
def test_the_moderation_state_is_read_under_either_documented_name(reply, state, public,
                                                                     reason):
    """The reference names the types State and PolicyViolation; the update notes call the
    first ReviewReplyState. Either key gives the same verdict, and a reply from before
    moderation was reported (no state at all) is public as it stands."""
    from connectors.base import public_state
    from connectors.google_business import _posted

    posted = _posted({"comment": "Thank you, Priya.", "updateTime": "2026-11-26T08:00:00Z",
                      **reply}, "accounts/1/locations/2/reviews/r1")
    assert (posted.state, public_state(posted.state), posted.reason) == (state, public, reason)
