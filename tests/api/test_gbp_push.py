"""Google Business Profile Pub/Sub push: token check, parsing, fetch-and-ingest."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from connectors.base import Review
from connectors.errors import NotFound, TransientError
from plugin.sources.models import SourceRow
from plugin.store.models import ReviewRow

URL = "/webhooks/google/pubsub"
NAME = "accounts/1/locations/2/reviews/abc"


class FakeGoogleBusiness:
    def __init__(self, error: Exception | None = None):
        self.fetched: list[str] = []
        self.error = error

    def fetch_review(self, name: str) -> Review:
        self.fetched.append(name)
        if self.error:
            raise self.error
        return Review(platform="google_business", external_id=name, rating=2,
                      created_at=datetime(2026, 11, 20, tzinfo=UTC),
                      author="Sam", text="Cold food and a long wait.", language="en")


@pytest.fixture
def fake(app, db):
    """A configured Google Business source owning the review's location, whose connector the
    app's connector lookup (its documented injection point) answers with the fake."""
    connector = FakeGoogleBusiness()
    with db.session() as session:
        session.add(SourceRow(name="gbp", kind="google_business",
                              settings={"locations": ["accounts/1/locations/2"]}))
    app.config["GOOGLE_PUBSUB_TOKEN"] = "push-token-123"
    app.extensions["makeright.connector_for"] = \
        lambda source, **_: connector if source == "gbp" else None
    return connector


def envelope(data: dict) -> dict:
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    return {"message": {"data": encoded, "messageId": "1"}, "subscription": "projects/p/s"}


def stored(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(ReviewRow))


@pytest.mark.parametrize("field", ["reviewName", "review_name"])
def test_new_review_is_fetched_and_stored(client, db, fake, field):
    body = envelope({"notificationType": "NEW_REVIEW", field: NAME,
                     "locationName": "accounts/1/locations/2"})
    response = client.post(f"{URL}?token=push-token-123", json=body)
    assert response.status_code == 200 and response.get_json()["external_id"] == NAME
    assert fake.fetched == [NAME] and stored(db) == 1
    client.post(f"{URL}?token=push-token-123", json=body)
    assert stored(db) == 1


@pytest.mark.parametrize("token", ["", "wrong", "push-token-12"])
def test_bad_token_is_401_and_fetches_nothing(client, db, fake, token):
    body = envelope({"notificationType": "NEW_REVIEW", "reviewName": NAME})
    assert client.post(f"{URL}?token={token}", json=body).status_code == 401
    assert fake.fetched == [] and stored(db) == 0


def test_other_notifications_are_acknowledged_and_ignored(client, db, fake):
    body = envelope({"notificationType": "NEW_QUESTION", "questionName": "q"})
    response = client.post(f"{URL}?token=push-token-123", json=body)
    assert response.status_code == 200 and response.get_json()["ignored"]
    assert fake.fetched == []


def test_malformed_envelopes_are_400(client, fake):
    for body in ({"nope": 1}, {"message": "text"}, [1]):
        assert client.post(f"{URL}?token=push-token-123", json=body).status_code == 400


@pytest.mark.parametrize("data", ["%%%", base64.b64encode(b"not json").decode(),
                                  base64.b64encode(b"[1, 2]").decode()])
def test_unreadable_messages_are_acknowledged_not_redelivered_forever(client, fake, data):
    response = client.post(f"{URL}?token=push-token-123", json={"message": {"data": data}})
    assert response.status_code == 200 and response.get_json()["ignored"] is True
    assert "message.data" in response.get_json()["reason"] and fake.fetched == []


def test_platform_outage_asks_pubsub_to_redeliver(app, client, db, fake):
    fake.error = TransientError("Google answered 503")
    body = envelope({"notificationType": "UPDATED_REVIEW", "reviewName": NAME})
    assert client.post(f"{URL}?token=push-token-123", json=body).status_code == 503
    fake.error = NotFound("gone")
    assert client.post(f"{URL}?token=push-token-123", json=body).status_code == 200
    assert stored(db) == 0
