"""The signed review webhook: signatures, replays, limits, validation and drafting."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from plugin.api.models import WebhookReceipt
from plugin.api.webhooks import MAX_BATCH, draft_pending
from plugin.context import get_policy
from plugin.outbound.models import WebhookSecret
from plugin.outbound.signing import new_secret, seal, verify
from plugin.store.models import AuditRow, DraftRow, ReviewRow

from .conftest import encode, review_json, signed

URL = "/webhooks/reviews"


def count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def nothing_written(db) -> bool:
    return count(db, ReviewRow) == 0 and count(db, WebhookReceipt) == 0 \
        and count(db, AuditRow) == 0


def test_valid_signature_is_accepted_with_status_url(client, db, secret):
    body = encode(review_json())
    response = client.post(URL, data=body, headers=signed(secret, body))
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["status_url"] == f"/api/v1/reviews/{answer['id']}"
    assert answer["external_id"] == "r-1"
    assert count(db, ReviewRow) == 1


def test_library_verifies_what_we_sign(secret):
    body = encode(review_json())
    headers = signed(secret, body)
    Webhook(secret).verify(body.decode(), headers, json_parse=False)


@pytest.mark.parametrize("position", [0, 17, -2])
def test_one_changed_byte_is_rejected_and_nothing_written(client, db, secret, position):
    body = encode(review_json())
    headers = signed(secret, body)
    tampered = bytearray(body)
    tampered[position] = (tampered[position] + 1) % 128 or 65
    response = client.post(URL, data=bytes(tampered), headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert nothing_written(db)


def test_reordered_json_with_the_original_signature_fails(client, db, secret):
    data = review_json()
    body = encode(data)
    reordered = json.dumps(dict(reversed(list(data.items())))).encode()
    assert json.loads(reordered) == data and reordered != body
    assert client.post(URL, data=reordered, headers=signed(secret, body)).status_code == 401
    assert nothing_written(db)


@pytest.mark.parametrize("offset", [timedelta(seconds=-310), timedelta(seconds=310)])
def test_old_and_future_timestamps_are_rejected(client, db, secret, offset):
    body = encode(review_json())
    headers = signed(secret, body, at=datetime.now(UTC) + offset)
    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert nothing_written(db)


def test_timestamps_inside_the_window_are_accepted(client, secret):
    for index, offset in enumerate((-240, 240)):
        body = encode(review_json(f"r-{index}"))
        headers = signed(secret, body, at=datetime.now(UTC) + timedelta(seconds=offset))
        assert client.post(URL, data=body, headers=headers).status_code == 202


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_or_empty_headers_are_rejected(client, db, secret, missing):
    body = encode(review_json())
    headers = signed(secret, body)
    del headers[missing]
    assert client.post(URL, data=body, headers=headers).status_code == 401
    headers[missing] = ""
    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert nothing_written(db)


def test_asymmetric_scheme_is_not_accepted_when_only_symmetric_is_configured(client, secret):
    body = encode(review_json())
    headers = signed(secret, body)
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1a,")
    assert client.post(URL, data=body, headers=headers).status_code == 401


def test_rotation_accepts_either_secret_and_rejects_a_retired_one(app, client, db):
    old, new, retired = new_secret(), new_secret(), new_secret()
    app.config["WEBHOOK_SECRETS"] = f"{old}, {new}"
    for index, key in enumerate((old, new)):
        body = encode(review_json(f"rot-{index}"))
        assert client.post(URL, data=body, headers=signed(key, body)).status_code == 202
    body = encode(review_json("rot-retired"))
    assert client.post(URL, data=body, headers=signed(retired, body)).status_code == 401


def test_secret_created_in_the_database_verifies_until_revoked(app, client, db):
    created = new_secret()
    app.config["WEBHOOK_SECRETS"] = ""
    with db.session() as session:
        row = WebhookSecret(label="crm", sealed_secret=seal(created))
        session.add(row)
        session.flush()
        secret_id = row.id
    with db.session() as session:
        assert created not in session.get(WebhookSecret, secret_id).sealed_secret
    body = encode(review_json("db-secret"))
    assert client.post(URL, data=body, headers=signed(created, body)).status_code == 202
    with db.session() as session:
        session.get(WebhookSecret, secret_id).revoked_at = datetime.now(UTC)
    body = encode(review_json("db-secret-2"))
    assert client.post(URL, data=body, headers=signed(created, body)).status_code == 401


def test_repeated_webhook_id_replays_the_first_answer(client, db, secret):
    body = encode(review_json())
    first = client.post(URL, data=body, headers=signed(secret, body, message_id="msg_same"))
    again = client.post(URL, data=body, headers=signed(secret, body, message_id="msg_same"))
    assert again.status_code == first.status_code == 202
    assert again.get_json() == first.get_json()
    assert count(db, ReviewRow) == 1 and count(db, WebhookReceipt) == 1


def test_known_review_under_a_new_id_creates_nothing_new(client, db, secret):
    body = encode(review_json())
    first = client.post(URL, data=body, headers=signed(secret, body))
    audit_before = count(db, AuditRow)
    again = client.post(URL, data=body, headers=signed(secret, body))
    assert again.status_code == 202 and again.get_json() == first.get_json()
    assert count(db, ReviewRow) == 1 and count(db, AuditRow) == audit_before


def test_oversized_body_is_413_and_writes_nothing(app, client, db, secret):
    app.config["WEBHOOK_MAX_BYTES"] = 2000
    body = encode(review_json(text="x" * 3000))
    response = client.post(URL, data=body, headers=signed(secret, body))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert nothing_written(db)


@pytest.mark.parametrize("data,field", [
    (review_json(rating=9), "rating"),
    (review_json(created_at="yesterday"), "created_at"),
    ({**review_json(), "stars": 2}, "stars"),
    ({"reviews": [review_json("a"), review_json("b", platform="myspace")]}, "reviews[1].platform"),
    ({"reviews": [review_json(str(i)) for i in range(MAX_BATCH + 1)]}, "reviews"),
])
def test_invalid_review_is_422_naming_the_field_and_writes_nothing(client, db, secret, data,
                                                                   field):
    body = encode(data)
    response = client.post(URL, data=body, headers=signed(secret, body))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_review" and error["field"] == field
    assert nothing_written(db)


def test_a_batch_is_stored_in_one_request(client, db, secret):
    body = encode({"reviews": [review_json(f"b-{i}") for i in range(5)]})
    response = client.post(URL, data=body, headers=signed(secret, body))
    assert response.status_code == 202
    assert [item["external_id"] for item in response.get_json()["reviews"]] == \
        [f"b-{i}" for i in range(5)]
    assert count(db, ReviewRow) == 5


def test_drafting_is_not_in_the_request_path(client, db, secret):
    body = encode(review_json())
    client.post(URL, data=body, headers=signed(secret, body))
    assert count(db, DraftRow) == 0
    with db.session() as session:
        assert session.scalar(select(ReviewRow.status)) == "new"


def test_draft_pending_drafts_new_reviews(app, client, db, secret):
    body = encode({"reviews": [review_json(f"p-{i}") for i in range(3)]})
    client.post(URL, data=body, headers=signed(secret, body))
    with app.app_context():
        policy = get_policy()
    assert draft_pending(db, policy, limit=2) == 2
    assert draft_pending(db, policy, limit=10) == 1
    assert draft_pending(db, policy, limit=10) == 0
    with db.session() as session:
        assert set(session.scalars(select(ReviewRow.status))) <= {"drafted", "needs_attention"}


def test_wait_for_draft_answers_with_the_draft_and_replays_it(client, db, secret):
    body = encode(review_json())
    headers = signed(secret, body, message_id="msg_wait")
    response = client.post(f"{URL}?wait=draft", data=body, headers=headers)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["draft"]["text"] and answer["status"] in {"drafted", "needs_attention"}
    replay = client.post(f"{URL}?wait=draft", data=body, headers=headers)
    assert replay.status_code == 200 and replay.get_json() == answer
    assert count(db, DraftRow) == 1


def test_drafter_failure_marks_the_review_draft_failed(app, client, db, secret):
    class Broken:
        name = "broken"

        def draft(self, *args, **kwargs):
            raise RuntimeError("model unavailable")

    body = encode(review_json())
    client.post(URL, data=body, headers=signed(secret, body))
    with app.app_context():
        assert draft_pending(db, get_policy(), drafter=Broken()) == 0
    with db.session() as session:
        row = session.scalar(select(ReviewRow))
        assert row.status == "draft_failed" and "model unavailable" in row.last_error


def test_verify_refuses_undecodable_bodies_and_dotted_ids(secret):
    body = b"\xff\xfe"
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AA=="}
    assert not verify(body, headers, [secret])
    good = encode(review_json())
    headers = {k.lower(): v for k, v in signed(secret, good, message_id="a.b").items()}
    assert not verify(good, headers, [secret])
