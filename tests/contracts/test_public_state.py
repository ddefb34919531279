"""A reply's public state, followed against payloads shaped as the platforms document them.

Google Business Profile: the Review and ReviewReply resources of
https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews, whose
ReviewReply carries the moderation `State` (PENDING, REJECTED, APPROVED) and, when rejected, a
`PolicyViolation` such as REPETITIVE (dated 2026-04-01 and 2026-07-01 on
https://developers.google.com/my-business/content/latest-updates).
App Store Connect: CustomerReviewResponseV1 with `state` PENDING_PUBLISH or PUBLISHED, from the
App Store Connect OpenAPI document (tests/contracts/app_store_connect.customer_reviews.json) and
https://developer.apple.com/documentation/appstoreconnectapi/post-v1-customerreviewresponses.
Every payload a fake answer sends is first validated against those schemas.
"""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import responses
from sqlalchemy import select

from connectors.base import Review
from plugin.actions import Actor, approve
from plugin.classify import classifier_for
from plugin.drafting import draft_review
from plugin.outbound import events
from plugin.outbound.models import OutboxEvent, WebhookEndpoint
from plugin.pipeline.config import PipelineSettings
from plugin.pipeline.poster import post_one
from plugin.pipeline.registry import StepContext
from plugin.pipeline.steps import publication_step
from plugin.store import states
from plugin.store.models import DraftRow, ReviewRow, utcnow
from plugin.store.reviews import ingest, save_draft, to_review
from tests.connectors.support import (
    ASC_BASE,
    GBP_BASE,
    GBP_LOCATION,
    Sleeps,
    app_store,
    business,
    token_response,
)

from . import schemas
from .test_platform_schemas import errors

APPROVER = Actor("amara", "approver")
FAST = PipelineSettings(backoff_base=0.01, backoff_max=0.04, confirm_first_seconds=0.01,
                        publication_first_seconds=0.01, publication_check_seconds=0.01)
GBP_NAME = f"{GBP_LOCATION}/reviews/AbFvOqn-rev9"
ASC_REVIEW_ID = "00000029-8f1a-4c1d-9b8e-aaaaaaaaaaa9"


def valid(build, name: str, payload: dict) -> dict:
    assert errors(build(name), payload) == [], payload
    return payload


def store_approved(database, policy, review: Review) -> int:
    events.install()
    with database.session() as session:
        session.add(WebhookEndpoint(url="https://hooks.example/makeright", sealed_secret="x",
                                    events=[events.REPLY_PUBLISHED, events.REPLY_REJECTED]))
        row = ingest(session, review, classifier_for(policy).classify(review)).row
        save_draft(session, row, draft_review(to_review(row), policy))
        approve(session, row, policy, APPROVER, override_reason="read it twice")
        return row.id


def outbox(database) -> list[dict]:
    with database.session() as session:
        return [e.payload for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]


def check_again(database, policy, connector, review_id: int) -> ReviewRow:
    """One run of the worker's publication step with the review due now."""
    with database.session() as session:
        session.get(ReviewRow, review_id).next_attempt_at = utcnow()
    publication_step(StepContext(db=database, policy=policy, worker="w1", settings=FAST,
                                 resolve=lambda review: connector))
    with database.session() as session:
        return session.get(ReviewRow, review_id)


class GoogleReview:
    """The v4 Review resource of one location's review, its reply set by PUT .../reply."""

    def __init__(self):
        self.reply: dict | None = None

    def review(self) -> dict:
        body = {"name": GBP_NAME, "reviewId": "AbFvOqn-rev9",
                "reviewer": {"displayName": "Priya Raman", "isAnonymous": False},
                "starRating": "ONE", "comment": "cold food again. 45 min wait, nobody said sorry",
                "createTime": "2026-11-25T19:02:11.845Z", "updateTime": "2026-11-25T19:02:11.845Z"}
        if self.reply is not None:
            body["reviewReply"] = self.reply
        return valid(schemas.google_business, "Review", body)

    def put(self, request):
        sent = json.loads(request.body)
        valid(schemas.google_business, "UpdateReplyRequest", sent)
        self.reply = {"comment": sent["comment"], "updateTime": "2026-11-26T08:00:00Z",
                      "state": "PENDING"}
        return 200, {}, json.dumps(valid(schemas.google_business, "ReviewReply", self.reply))

    def get(self, request):
        return 200, {}, json.dumps(self.review())


def google_review() -> Review:
    return Review(platform="google_business", external_id=GBP_NAME, rating=1,
                  source=GBP_LOCATION, author="Priya Raman",
                  text="cold food again. 45 min wait, nobody said sorry",
                  created_at=datetime(2026, 11, 25, 19, 2, 11, tzinfo=UTC))


@pytest.fixture
def google(database, policy):
    fake = GoogleReview()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        token_response(mocked)
        mocked.add_callback("GET", f"{GBP_BASE}/{GBP_NAME}", callback=fake.get)
        mocked.add_callback("PUT", f"{GBP_BASE}/{GBP_NAME}/reply", callback=fake.put)
        connector = business(Sleeps())
        review_id = store_approved(database, policy, google_review())
        outcome = post_one(database, review_id, connector, APPROVER, settings=FAST)
        yield fake, connector, review_id, outcome


def test_google_pending_then_approved_ends_published(database, policy, google):
    fake, connector, review_id, outcome = google
    assert outcome.status == states.POSTED and outcome.post_state == "pending"
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        assert (row.public_state, row.public_checks) == ("posted", 0)
        assert row.next_attempt_at is not None

    row = check_again(database, policy, connector, review_id)
    assert (row.status, row.public_state, row.public_checks) == (states.POSTED, "posted", 1)

    fake.reply["state"] = "APPROVED"
    row = check_again(database, policy, connector, review_id)
    assert (row.status, row.public_state, row.post_state) == (states.POSTED, "published",
                                                              "approved")
    assert row.next_attempt_at is None
    assert [e["type"] for e in outbox(database)] == ["reply.published"]


def test_google_rejected_as_repetitive_reopens_with_the_reason_and_a_redraft(
        database, policy, google):
    fake, connector, review_id, _ = google
    rejected_text = fake.reply["comment"]
    fake.reply.update(state="REJECTED", policyViolation="REPETITIVE")
    valid(schemas.google_business, "ReviewReply", fake.reply)

    row = check_again(database, policy, connector, review_id)

    assert row.status == states.NEEDS_ATTENTION
    assert (row.public_state, row.public_reason) == ("rejected", "REPETITIVE")
    assert "REPETITIVE" in row.status_reason and "similar content" in row.status_reason
    with database.session() as session:
        drafts = session.scalars(select(DraftRow).where(DraftRow.review_id == review_id)
                                 .order_by(DraftRow.version)).all()
        assert len(drafts) == 2
        assert drafts[1].text != rejected_text and "repetitive" in drafts[1].instruction
        assert "REPETITIVE" in drafts[1].note
    rejected = [e for e in outbox(database) if e["type"] == "reply.rejected"]
    assert [e["data"]["reason"] for e in rejected] == ["REPETITIVE"]
    assert row.next_attempt_at is None  # with a person now, never read again by the worker


def test_app_store_post_makes_three_requests_and_the_worker_sees_it_published(
        database, policy, monkeypatch):
    """Review without a response: read (404), the review itself, the POST. Nothing sleeps."""

    def no_sleep(seconds):
        raise AssertionError(f"slept {seconds} s while posting")

    response = {"type": "customerReviewResponses", "id": "6c3f1a2e-resp-0009",
                "attributes": {"responseBody": None, "lastModifiedDate": "2026-11-26T09:00:00Z",
                               "state": "PENDING_PUBLISH"},
                "relationships": {"review": {"data": {"type": "customerReviews",
                                                      "id": ASC_REVIEW_ID}}}}

    def created(request):
        sent = valid(schemas.app_store, "CustomerReviewResponseV1CreateRequest",
                     json.loads(request.body))
        response["attributes"]["responseBody"] = sent["data"]["attributes"]["responseBody"]
        body = {"data": response, "links": {"self": f"{ASC_BASE}/v1/customerReviewResponses"}}
        return 201, {"X-Rate-Limit": "user-hour-lim:3500;user-hour-rem:3497;"}, json.dumps(
            valid(schemas.app_store, "CustomerReviewResponseV1Response", body))

    review = Review(platform="app_store", external_id=ASC_REVIEW_ID, rating=2, source="1234567890",
                    author="tomás_g", title="crashes on login", text="crash al iniciar sesión "
                    "desde la 4.2, can't even open my budget", created_at=datetime(
                        2026, 11, 24, 7, 30, tzinfo=UTC))
    review_id = store_approved(database, policy, review)
    not_found = {"errors": [{"status": "404", "code": "NOT_FOUND",
                             "title": "The specified resource does not exist",
                             "detail": "There is no resource of type 'customerReviewResponses'"}]}
    review_body = {"data": {"type": "customerReviews", "id": ASC_REVIEW_ID, "attributes": {
        "rating": 2, "title": "crashes on login", "body": review.text,
        "reviewerNickname": "tomás_g", "createdDate": "2026-11-24T07:30:00Z",
        "territory": "ESP"}}, "links": {"self": f"{ASC_BASE}/v1/customerReviews/{ASC_REVIEW_ID}"}}
    connector = app_store(Sleeps())
    with responses.RequestsMock() as mocked:
        read = mocked.get(f"{ASC_BASE}/v1/customerReviews/{ASC_REVIEW_ID}/response", status=404,
                          json=valid(schemas.app_store, "ErrorResponse", not_found))
        mocked.get(f"{ASC_BASE}/v1/customerReviews/{ASC_REVIEW_ID}",
                   json=valid(schemas.app_store, "CustomerReviewResponse", review_body))
        mocked.add_callback("POST", f"{ASC_BASE}/v1/customerReviewResponses", callback=created)
        monkeypatch.setattr(time, "sleep", no_sleep)
        outcome = post_one(database, review_id, connector, APPROVER, settings=FAST)
        monkeypatch.undo()
        requests_made = len(mocked.calls)
        assert requests_made == 3, [c.request.url for c in mocked.calls]
        assert outcome.status == states.POSTED and outcome.post_state == "pending_publish"

        mocked.remove(read)

        def shown(request):
            body = {"data": response, "links": {"self": f"{ASC_BASE}/v1/customerReviewResponses"}}
            return 200, {}, json.dumps(valid(schemas.app_store,
                                             "CustomerReviewResponseV1Response", body))

        mocked.add_callback("GET", f"{ASC_BASE}/v1/customerReviews/{ASC_REVIEW_ID}/response",
                            callback=shown)
        row = check_again(database, policy, connector, review_id)
        assert (row.public_state, row.post_state) == ("posted", "pending_publish")
        response["attributes"]["state"] = "PUBLISHED"
        row = check_again(database, policy, connector, review_id)
    assert (row.status, row.public_state, row.post_state) == (states.POSTED, "published",
                                                              "published")
    assert [e["type"] for e in outbox(database)] == ["reply.published"]


THANKS = ("Thank you so much for the five stars, {name}! We're delighted the whole evening went "
          "well and hope to welcome you back soon. – Harbour Lane")


def test_a_reply_like_one_posted_since_its_approval_is_held_for_a_person(database, policy):
    """Two near-identical thank-yous approved together: the first posts, the second would be
    rejected by Google as REPETITIVE, so it goes back to a person without a platform call."""
    fakes: dict[str, GoogleReview] = {}
    puts: list[str] = []
    ids = []
    for number, (name, text) in enumerate([("Priya", "best dinner in ages!!"),
                                           ("Tom", "lovely night, great staff 👍")]):
        review_name = f"{GBP_LOCATION}/reviews/AbFvOqn-thanks{number}"
        fakes[review_name] = GoogleReview()
        review = Review(platform="google_business", external_id=review_name, rating=5,
                        source=GBP_LOCATION, author=name, text=text,
                        created_at=datetime(2026, 11, 25, 19, 2, 11, tzinfo=UTC))
        with database.session() as session:
            row = ingest(session, review, classifier_for(policy).classify(review)).row
            save_draft(session, row, draft_review(to_review(row), policy))
            draft = session.get(DraftRow, row.current_draft_id)
            draft.text = THANKS.format(name=name)
            approve(session, row, policy, APPROVER, override_reason="checked")
            ids.append(row.id)

    def get(request):
        name = request.url.removeprefix(f"{GBP_BASE}/")
        return 200, {}, json.dumps(fakes[name].review())

    def put(request):
        puts.append(request.url)
        return fakes[request.url.removeprefix(f"{GBP_BASE}/").removesuffix("/reply")].put(request)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        token_response(mocked)
        for name in fakes:
            mocked.add_callback("GET", f"{GBP_BASE}/{name}", callback=get)
            mocked.add_callback("PUT", f"{GBP_BASE}/{name}/reply", callback=put)
        connector = business(Sleeps())
        first = post_one(database, ids[0], connector, APPROVER, settings=FAST)
        second = post_one(database, ids[1], connector, APPROVER, settings=FAST)

    assert first.status == states.POSTED
    assert second.status == states.NEEDS_ATTENTION and not second.wrote
    assert "REPETITIVE" in second.reason and "Rephrase" in second.reason
    assert len(puts) == 1
    with database.session() as session:
        held = session.get(ReviewRow, ids[1])
        assert held.platform_reply is None and held.posted_at is None
