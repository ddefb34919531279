"""Hostile input on every way in: each is refused with a 4xx naming the field, writes nothing,
and the honest neighbour of each attack still passes."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid

import pytest
from sqlalchemy import func, select

from plugin.api.models import WebhookReceipt
from plugin.api.webhooks import draft_pending
from plugin.context import get_policy
from plugin.store.models import AuditRow, ReviewRow

from .conftest import auth, encode, review_json, signed
from .test_gbp_push import NAME, envelope, fake  # noqa: F401 (a fixture)
from .test_gbp_push import URL as PUBSUB

WEBHOOK = "/webhooks/reviews"
API = "/api/v1/reviews"
ALL = ("reviews:read", "reviews:write", "replies:approve", "replies:post")
LONE_SURROGATE = '"\\udfff"'  # as a JSON escape: valid JSON syntax, not Unicode text


def rows(db) -> list[ReviewRow]:
    with db.session() as session:
        return list(session.scalars(select(ReviewRow).order_by(ReviewRow.id)))


def written(db) -> int:
    with db.session() as session:
        return sum(session.scalar(select(func.count()).select_from(model))
                   for model in (ReviewRow, WebhookReceipt, AuditRow))


def post_raw(client, secret, body: bytes):
    return client.post(WEBHOOK, data=body, headers=signed(secret, body))


def with_raw(field_json: str, field: str = "text", base: dict | None = None) -> bytes:
    """A review body whose `field` is spliced in as raw JSON text (escapes kept as sent)."""
    data = dict(base or review_json())
    data[field] = "__RAW__"
    return json.dumps(data).replace('"__RAW__"', field_json).encode()


def error(response) -> dict:
    return response.get_json()["error"]


# --- strings that are not text ---------------------------------------------------------------

@pytest.mark.parametrize("field, raw, named", [
    ("metadata", '{"app_version": "\\udfff"}', "metadata.app_version"),
    ("text", LONE_SURROGATE, "text"),
    ("external_id", '"r-\\ud800"', "external_id"),
    ("source", LONE_SURROGATE, "source"),
    ("author", '"Dana\\u0000"', "author"),
    ("metadata", '{"place\\u0000": "x"}', "metadata.place\\u0000"),
    ("reply", '{"text": "thanks\\udfff"}', "reply.text"),
])
def test_lone_surrogates_and_nul_are_refused_naming_the_field(client, db, secret, field, raw,
                                                              named):
    response = post_raw(client, secret, with_raw(raw, field))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert error(response)["field"] == named
    assert written(db) == 0


def test_the_same_review_in_plain_unicode_is_stored(client, db, secret):
    body = encode(review_json(text="Café 🍰 — 東京 — مرحبا", metadata={"app_version": "2.1"}))
    assert post_raw(client, secret, body).status_code == 202
    assert rows(db)[0].text == "Café 🍰 — 東京 — مرحبا"


def signed_bytes(secret: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers computed by hand over raw bytes (the library signs text)."""
    message_id, stamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": message_id, "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode(),
            "Content-Type": "application/json"}


def test_invalid_utf8_in_a_signed_body_says_so_and_not_bad_signature(client, db, secret):
    body = encode(review_json(text="PLACEHOLDER")).replace(b"PLACEHOLDER", b"caf\xe9 latin-1")
    response = client.post(WEBHOOK, data=body, headers=signed_bytes(secret, body))
    assert response.status_code == 422
    assert "UTF-8" in error(response)["message"] and error(response)["field"] == "body"
    assert written(db) == 0
    # The same bytes with a wrong signature are still a signature problem.
    headers = signed_bytes(secret, body + b" ")
    assert client.post(WEBHOOK, data=body, headers=headers).status_code == 401


def test_a_utf8_body_signed_by_hand_over_its_bytes_verifies(client, db, secret):
    """The verifier checks the bytes received, whoever computed the signature."""
    body = encode(review_json(text="Café"))
    assert client.post(WEBHOOK, data=body, headers=signed_bytes(secret, body)).status_code == 202


# --- structure --------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000,
                                  b'{"metadata":' * 5000 + b"1" + b"}" * 5000,
                                  b'{"a": [' * 40 + b"]}" * 40])
def test_deep_nesting_is_refused_before_parsing(client, db, secret, body):
    response = post_raw(client, secret, body)
    assert response.status_code == 422
    assert "deeper than" in error(response)["message"]
    assert written(db) == 0


def test_brackets_inside_strings_are_not_nesting(client, db, secret):
    body = encode(review_json(text="[[[[{{{{ " * 200 + "}}]]"))
    assert post_raw(client, secret, body).status_code == 202


@pytest.mark.parametrize("raw, problem", [
    (b'{"external_id": "a", "external_id": "b", "rating": 1, '
     b'"created_at": "2026-11-01T10:00:00Z"}', "twice"),
    (b'{"external_id": "a", "rating": NaN, "created_at": "2026-11-01T10:00:00Z"}', "NaN"),
    (b'{"external_id": "a", "rating": 1e999, "created_at": "2026-11-01T10:00:00Z"}',
     "too large"),
    (b'{"external_id": "a", "rating": 1' + b"0" * 5000 + b', "created_at": "x"}', "JSON"),
])
def test_ambiguous_json_is_refused(client, db, secret, raw, problem):
    response = post_raw(client, secret, raw)
    assert response.status_code == 422 and problem in error(response)["message"]
    assert written(db) == 0


def test_rest_and_pubsub_refuse_deep_nesting_too(client, db, make_token, app):
    token = make_token(*ALL)
    deep = b"[" * 50_000 + b"]" * 50_000
    response = client.post(API, data=deep, headers={**auth(token), "Idempotency-Key": "d",
                                                     "Content-Type": "application/json"})
    assert response.status_code == 422 and "deeper than" in error(response)["message"]
    app.config["GOOGLE_PUBSUB_TOKEN"] = "push-token-123"
    response = client.post(f"{PUBSUB}?token=push-token-123", data=deep,
                           content_type="application/json")
    assert response.status_code == 400 and "deeper than" in error(response)["message"]
    inner = {"message": {"data": base64.b64encode(b"{\"a\":" * 3000 + b"1" + b"}" * 3000)
                         .decode()}}
    response = client.post(f"{PUBSUB}?token=push-token-123", json=inner)
    assert response.status_code == 200 and response.get_json()["ignored"] is True
    assert "message.data: nests" in response.get_json()["reason"]
    assert written(db) == 0


# --- dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, problem", [
    ("9999-12-31T23:59:59-23:59", "year 9999"),
    ("0001-01-01T00:00:00+23:59", "year 0001"),
    ("2026-W47-4T10:00:00Z", "RFC 3339"),
    ("2026-324T10:00:00Z", "RFC 3339"),
    ("20261120T100000Z", "RFC 3339"),
    ("2026-11-20T10:00:00", "RFC 3339"),
    ("2026-02-30T10:00:00Z", "real date"),
    ("2026-11-20T10:00:00+24:00", "offset"),
])
def test_only_rfc3339_in_a_sane_range_is_accepted(client, db, secret, value, problem):
    response = post_raw(client, secret, encode(review_json(created_at=value)))
    assert response.status_code == 422, value
    assert error(response)["field"] == "created_at" and problem in error(response)["message"]
    assert written(db) == 0


def test_rfc3339_with_offsets_and_nanoseconds_is_accepted(client, db, secret):
    body = encode(review_json(created_at="2026-11-20T10:00:00.123456789-23:59",
                              updated_at="2026-11-21t10:00:00z"))
    assert post_raw(client, secret, body).status_code == 202
    assert rows(db)[0].review_created_at.isoformat().startswith("2026-11-21T09:59:00.123456")


# --- batches ----------------------------------------------------------------------------------

def test_duplicate_external_id_in_a_batch_names_both_positions(client, db, secret):
    body = encode({"reviews": [review_json("a"), review_json("b"),
                               review_json("a", text="A different text")]})
    response = post_raw(client, secret, body)
    assert response.status_code == 422
    assert error(response)["field"] == "reviews[2].external_id"
    assert "reviews[0]" in error(response)["message"]
    assert written(db) == 0


def test_the_same_id_on_two_platforms_is_two_reviews(client, db, secret):
    body = encode({"reviews": [review_json("a"), review_json("a", platform="app_store")]})
    assert post_raw(client, secret, body).status_code == 202
    assert [(r.platform, r.external_id) for r in rows(db)] == [("google_play", "a"),
                                                               ("app_store", "a")]
    with db.session() as session:
        edits = session.scalar(select(func.count()).select_from(AuditRow)
                               .where(AuditRow.action == "edited_by_customer"))
    assert edits == 0


# --- what a person reads ----------------------------------------------------------------------

def test_bidi_and_invisible_characters_are_removed_from_every_stored_string(client, db, secret):
    body = encode(review_json("ord\u202e-1\u200b", source="shop\u2066", author="Dana\u202e",
                              title="Bad\u200d", text="Late \u202edelivery",
                              metadata={"loca\u202etion": ["Main St\u2067", {"k": "v\ufeff"}]},
                              url="https://example.com/r/1\u200b"))
    assert post_raw(client, secret, body).status_code == 202
    row = rows(db)[0]
    assert (row.external_id, row.source, row.author, row.title, row.text, row.url) == (
        "ord-1", "shop", "Dana", "Bad", "Late delivery", "https://example.com/r/1")
    assert row.meta == {"location": ["Main St", {"k": "v"}]}


@pytest.mark.parametrize("url", ["http://", "", "https://", "javascript:alert(1)",
                                 "https:///path", "http://exa mple.com", "//example.com",
                                 "https://user@example.com/", "http://example.com:99999/"])
def test_url_must_be_http_with_a_host(client, db, secret, url):
    response = post_raw(client, secret, encode(review_json(url=url)))
    assert response.status_code == 422 and error(response)["field"] == "url"
    assert written(db) == 0


@pytest.mark.parametrize("url", ["https://play.google.com/store/apps/details?id=x&reviewId=1",
                                 "http://localhost:8080/r", None])
def test_ordinary_urls_are_kept(client, db, secret, url):
    assert post_raw(client, secret, encode(review_json(url=url))).status_code == 202
    assert rows(db)[0].url == url


# --- ids and cursors --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/2147483648", "/99999999999999999999999999", "/0",
                                  "/-1", "/١٢", "/1.0"])
def test_ids_outside_an_integer_column_are_404(client, make_token, path):
    token = make_token(*ALL)
    for method, suffix in (("GET", ""), ("POST", "/approve"), ("POST", "/skip")):
        response = client.open(f"{API}{path}{suffix}", method=method, headers=auth(token),
                               json={"reason": "x"})
        assert response.status_code == 404, (path, suffix)
        assert error(response)["code"] == "not_found"


def test_largest_id_is_an_ordinary_404(client, make_token):
    response = client.get(f"{API}/2147483647", headers=auth(make_token(*ALL)))
    assert response.status_code == 404 and error(response)["code"] == "not_found"


@pytest.mark.parametrize("text", ["id:99999999999999999999", "id:2147483648", "id:-5",
                                  "id:²", "page:3"])
def test_cursors_are_range_checked(client, make_token, text):
    cursor = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    response = client.get(f"{API}?cursor={cursor}", headers=auth(make_token(*ALL)))
    assert response.status_code == 400 and error(response)["field"] == "cursor"


@pytest.mark.parametrize("query, field", [("language=en%00", "language"),
                                          ("rating=%C2%B2", "rating"), ("limit=٣", "limit")])
def test_bad_query_values_are_400_naming_the_parameter(client, make_token, query, field):
    response = client.get(f"{API}?{query}", headers=auth(make_token(*ALL)))
    assert response.status_code == 400 and error(response)["field"] == field


def test_unknown_api_paths_answer_json(client, make_token):
    response = client.get(f"{API}/null,null", headers=auth(make_token(*ALL)))
    assert response.status_code == 404 and response.is_json


# --- REST bodies --------------------------------------------------------------------------------

def _drafted(app, client, token) -> int:
    response = client.post(API, data=encode(review_json("rest-1")),
                           headers={**auth(token), "Idempotency-Key": uuid.uuid4().hex,
                                    "Content-Type": "application/json"})
    review_id = response.get_json()["review"]["id"]
    with app.app_context():
        draft_pending(app.extensions["makeright.db"], get_policy(), ids=[review_id])
    return review_id


@pytest.mark.parametrize("path, method, raw, field", [
    ("/draft", "PUT", '{"text": "Sorry\\udfff"}', "text"),
    ("/skip", "POST", '{"reason": "spam\\u0000"}', "reason"),
    ("/drafts", "POST", '{"instruction": "\\ud83d"}', "instruction"),
    ("/approve", "POST", '{"override_reason": "ok\\udc00"}', "override_reason"),
])
def test_rest_text_fields_refuse_non_text(app, client, make_token, path, method, raw, field):
    token = make_token(*ALL)
    review_id = _drafted(app, client, token)
    response = client.open(f"{API}/{review_id}{path}", method=method, data=raw.encode(),
                           headers={**auth(token), "Content-Type": "application/json"})
    assert response.status_code == 422 and error(response)["field"] == field


def test_rest_skip_reason_is_stored_without_bidi_characters(app, client, db, make_token):
    token = make_token(*ALL)
    review_id = _drafted(app, client, token)
    response = client.post(f"{API}/{review_id}/skip", json={"reason": "spam \u202eevil"},
                           headers=auth(token))
    assert response.status_code == 200
    with db.session() as session:
        reasons = session.scalars(select(AuditRow.reason).where(AuditRow.review_id == review_id,
                                                                AuditRow.to_state == "skipped"))
        assert list(reasons) == ["spam evil"]


def test_rest_text_over_its_limit_is_refused(app, client, make_token):
    token = make_token(*ALL)
    review_id = _drafted(app, client, token)
    response = client.post(f"{API}/{review_id}/skip", json={"reason": "x" * 1001},
                           headers=auth(token))
    assert response.status_code == 422 and error(response)["field"] == "reason"


def test_webhook_wait_takes_only_draft(client, db, secret):
    body = encode(review_json())
    response = client.post(f"{WEBHOOK}?wait=null", data=body, headers=signed(secret, body))
    assert response.status_code == 422 and error(response)["field"] == "wait"
    assert written(db) == 0


# --- Google push ------------------------------------------------------------------------------

def test_a_newline_in_a_review_name_cannot_forge_a_log_line(client, db, fake, caplog):
    forged = NAME + "\nINFO plugin.web.auth admin signed in from 10.0.0.1"
    with caplog.at_level(logging.INFO):
        response = client.post(f"{PUBSUB}?token=push-token-123",
                               json=envelope({"notificationType": "NEW_REVIEW",
                                              "reviewName": forged}))
    assert response.status_code == 200 and response.get_json()["ignored"] is True
    assert fake.fetched == [] and written(db) == 0
    lines = "\n".join(record.getMessage() for record in caplog.records).splitlines()
    assert not any(line.startswith("INFO plugin.web.auth") for line in lines)
    assert any("\\nINFO plugin.web.auth" in line for line in lines)


@pytest.mark.parametrize("name", [NAME + "/../../../locations/9/reviews/x", NAME + "?alt=media",
                                  "accounts/1/locations/2/reviews/"])
def test_only_well_formed_review_names_reach_the_connector(client, fake, name):
    response = client.post(f"{PUBSUB}?token=push-token-123",
                           json=envelope({"notificationType": "NEW_REVIEW", "reviewName": name}))
    assert response.status_code == 200 and response.get_json()["ignored"] is True
    assert fake.fetched == []


def test_a_pushed_review_goes_through_the_same_rules(client, db, fake):
    original = fake.fetch_review

    def poisoned(name):
        review = original(name)
        review.metadata = {"location": "Main St\udfff"}
        return review

    fake.fetch_review = poisoned
    response = client.post(f"{PUBSUB}?token=push-token-123",
                           json=envelope({"notificationType": "NEW_REVIEW", "reviewName": NAME}))
    assert response.status_code == 200 and response.get_json()["ignored"] is True
    assert "metadata.location" in response.get_json()["reason"]
    assert written(db) == 0
