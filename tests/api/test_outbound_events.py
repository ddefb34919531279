"""Outbound events: the outbox, signed delivery, the retry schedule and SSRF refusals."""
from __future__ import annotations

import json
import random
import socket
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from plugin.commands.main import cli
from plugin.outbound import delivery as delivery_module
from plugin.outbound.delivery import (
    SCHEDULE,
    UnsafeDestination,
    backoff,
    check_destination,
    deliver_due,
    retry_after,
)
from plugin.outbound.events import emit, review_data
from plugin.outbound.models import Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint
from plugin.outbound.signing import new_secret, seal
from plugin.store import states
from plugin.store.models import AuditRow, ReviewRow

from .conftest import encode, review_json, signed

ALL_EVENTS = ["review.received", "draft.ready", "reply.approved", "reply.posted",
              "reply.failed", "review.escalated"]


@pytest.fixture
def endpoint(db, receiver, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS", "1")
    key = new_secret()
    with db.session() as session:
        row = WebhookEndpoint(url=receiver.url, events=ALL_EVENTS, sealed_secret=seal(key))
        session.add(row)
        session.flush()
        endpoint_id = row.id
    return endpoint_id, key


def post_review(client, secret, external_id="r-1", **fields):
    body = encode(review_json(external_id, **fields))
    return client.post("/webhooks/reviews", data=body, headers=signed(secret, body)).get_json()


def events(db) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)))


def test_received_event_is_delivered_signed_and_verifies(client, db, secret, endpoint,
                                                         receiver):
    _, key = endpoint
    answer = post_review(client, secret)
    assert events(db) == ["review.received"]
    assert deliver_due(db) == 1
    (got,) = receiver.requests
    payload = Webhook(key).verify(got.body.decode(), got.headers)
    assert payload["type"] == "review.received"
    assert payload["data"]["review"]["id"] == answer["id"]


def test_state_changes_emit_their_events(app, client, db, secret, endpoint):
    from plugin.api.webhooks import draft_pending
    from plugin.context import get_policy

    answer = post_review(client, secret)
    with app.app_context():
        draft_pending(db, get_policy())
    with db.session() as session:
        row = session.get(ReviewRow, answer["id"])
        states.transition(session, row, states.APPROVED, actor="t", approved_by="t")
        states.transition(session, row, states.POSTING, actor="t")
        states.transition(session, row, states.FAILED, actor="t", last_error="HTTP 500")
    assert events(db) == ["review.received", "draft.ready", "reply.approved", "reply.failed"]
    post_review(client, secret, "legal", text="My lawyer will sue you over this injury.")
    with app.app_context():
        draft_pending(db, get_policy())
    assert events(db)[-2:] == ["review.received", "review.escalated"]


def test_outbox_row_rolls_back_with_the_change(db, client, secret, endpoint):
    answer = post_review(client, secret)
    before = len(events(db))
    with pytest.raises(RuntimeError), db.session() as session:
        row = session.get(ReviewRow, answer["id"])
        states.transition(session, row, states.SKIPPED, actor="t", reason="spam")
        assert len(session.scalars(select(OutboxEvent)).all()) == before
        raise RuntimeError("the request failed after the change")
    assert len(events(db)) == before


def test_unsubscribed_and_disabled_endpoints_get_nothing(db, endpoint):
    endpoint_id, _ = endpoint
    with db.session() as session:
        session.get(WebhookEndpoint, endpoint_id).events = ["reply.posted"]
        assert emit(session, "review.received", {"review": {}}) is None
        session.get(WebhookEndpoint, endpoint_id).enabled = False
        assert emit(session, "reply.posted", {"review": {}}) is None
    with pytest.raises(ValueError), db.session() as session:
        emit(session, "review.deleted", {})


def _queue_one(db) -> int:
    with db.session() as session:
        event = emit(session, "reply.posted", {"review": {"id": 1}, "draft": {"text": "x"}})
        return session.scalar(select(Delivery.id).where(Delivery.event_id == event.id))


def _delivery(db, delivery_id) -> Delivery:
    with db.session() as session:
        return session.get(Delivery, delivery_id)


def test_retries_keep_the_id_and_refresh_timestamp_and_signature(db, endpoint, receiver,
                                                                 monkeypatch):
    _, key = endpoint
    receiver.script = [(500, {}), (503, {}), (200, {})]
    clock = iter(datetime.now(UTC) + timedelta(seconds=60 * n) for n in range(3))
    original = delivery_module.sign
    monkeypatch.setattr(delivery_module, "sign",
                        lambda *args: original(*args, at=next(clock)))
    delivery_id = _queue_one(db)
    now = datetime.now(UTC)
    deliver_due(db, now)
    deliver_due(db, now + timedelta(hours=1))
    deliver_due(db, now + timedelta(hours=2))
    assert len(receiver.requests) == 3
    ids = {got.headers["webhook-id"] for got in receiver.requests}
    assert len(ids) == 1
    assert len({got.headers["webhook-timestamp"] for got in receiver.requests}) == 3
    assert len({got.headers["webhook-signature"] for got in receiver.requests}) == 3
    for got in receiver.requests:
        Webhook(key).verify(got.body.decode(), got.headers, json_parse=False)
    assert _delivery(db, delivery_id).status == "delivered"


def test_failure_schedules_the_next_attempt_by_the_backoff_table(db, endpoint, receiver):
    receiver.script = [(500, {})] * 3
    delivery_id = _queue_one(db)
    now = datetime.now(UTC)
    moment = now
    for attempt in range(3):
        deliver_due(db, moment, rng=random.Random(attempt))
        scheduled = _delivery(db, delivery_id).next_attempt_at
        wait = scheduled - moment
        assert SCHEDULE[attempt] * 0.9 <= wait <= SCHEDULE[attempt] * 1.1
        assert deliver_due(db, scheduled - timedelta(seconds=1)) == 0
        moment = scheduled
    with db.session() as session:
        attempts = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        assert [a.status_code for a in attempts] == [500, 500, 500]
        assert all(a.error == "HTTP 500" and a.next_attempt_at for a in attempts)


def test_backoff_has_jitter_and_ends():
    waits = {backoff(2) for _ in range(20)}
    assert len(waits) > 1
    assert backoff(len(SCHEDULE) + 1) is None
    assert sum(SCHEDULE, timedelta()) >= timedelta(hours=24)


def test_retry_after_is_honoured(db, endpoint, receiver):
    receiver.script = [(429, {"Retry-After": "3600"})]
    delivery_id = _queue_one(db)
    now = datetime.now(UTC)
    deliver_due(db, now)
    assert _delivery(db, delivery_id).next_attempt_at - now >= timedelta(seconds=3600)
    stamp = datetime(2030, 1, 1, tzinfo=UTC)
    assert retry_after("Tue, 01 Jan 2030 00:10:00 GMT", stamp) == timedelta(minutes=10)
    assert retry_after("999999", stamp) == timedelta(hours=24)
    assert retry_after("soon", stamp) is None


def test_410_disables_the_endpoint(db, endpoint, receiver):
    endpoint_id, _ = endpoint
    receiver.script = [(410, {})]
    delivery_id = _queue_one(db)
    deliver_due(db)
    with db.session() as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        assert not row.enabled and "410" in row.disabled_reason
    assert _delivery(db, delivery_id).status == "dead"


def test_redirects_are_failures_and_not_followed(db, endpoint, receiver):
    receiver.script = [(302, {"Location": receiver.url + "/elsewhere"})]
    delivery_id = _queue_one(db)
    deliver_due(db)
    assert len(receiver.requests) == 1
    found = _delivery(db, delivery_id)
    assert found.status == "pending" and found.last_error == "HTTP 302"


def test_exhausted_schedule_disables_and_notifies(db, endpoint, receiver):
    endpoint_id, _ = endpoint
    receiver.script = [(500, {})] * (len(SCHEDULE) + 1)
    delivery_id = _queue_one(db)
    moment = datetime.now(UTC)
    for _ in range(len(SCHEDULE) + 1):
        deliver_due(db, moment)
        moment += timedelta(hours=30)
    assert _delivery(db, delivery_id).status == "dead"
    with db.session() as session:
        assert not session.get(WebhookEndpoint, endpoint_id).enabled
        assert session.scalar(select(func.count()).select_from(AuditRow).where(
            AuditRow.action == "webhook_endpoint_disabled")) == 1


@pytest.mark.parametrize("url", ["https://127.0.0.1/h", "https://10.1.2.3/h",
                                 "https://192.168.0.5/h", "https://169.254.169.254/latest",
                                 "https://[::1]/h", "https://[::ffff:10.0.0.1]/h",
                                 "http://example.com/h", "ftp://example.com/h",
                                 "https://user:pw@example.com/h"])
def test_unsafe_destinations_are_refused(url):
    with pytest.raises(UnsafeDestination):
        check_destination(url, allow_private=False)


def test_registration_refuses_private_urls(db_url, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", db_url)
    result = CliRunner().invoke(cli, ["webhook", "add", "https://localhost/h", "--events",
                                      "reply.posted"])
    assert result.exit_code != 0 and "loopback" in result.output


def test_send_time_re_resolution_refuses_rebound_names(db, endpoint, receiver, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS", "0")
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]
    private = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
    answers = iter([public, private])
    monkeypatch.setattr(delivery_module.socket, "getaddrinfo", lambda *a, **k: next(answers))
    check_destination("https://hooks.example.com/h")
    endpoint_id, _ = endpoint
    with db.session() as session:
        session.get(WebhookEndpoint, endpoint_id).url = "https://hooks.example.com/h"
    delivery_id = _queue_one(db)
    deliver_due(db)
    assert receiver.requests == []
    assert "10.0.0.7" in _delivery(db, delivery_id).last_error


def test_cli_adds_lists_and_shows_attempts(db_url, monkeypatch, receiver):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", db_url)
    monkeypatch.setenv("MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS", "1")
    runner = CliRunner()
    added = runner.invoke(cli, ["webhook", "add", receiver.url, "--events", "all"])
    assert added.exit_code == 0, added.output
    key = added.output.strip().splitlines()[-1]
    assert key.startswith("whsec_")
    listing = runner.invoke(cli, ["webhook", "list"])
    assert receiver.url in listing.output and key not in listing.output
    from plugin.store.db import Database

    database = Database(db_url)
    with database.session() as session:
        emit(session, "review.escalated", {"review": review_data(ReviewRow(
            id=5, platform="other", external_id="x", rating=1, status="new"))})
    database.dispose()
    assert "1 attempts" in runner.invoke(cli, ["webhook", "deliver"]).output
    attempts = runner.invoke(cli, ["webhook", "attempts"]).output
    assert "review.escalated" in attempts and "try 1" in attempts
    assert json.loads(receiver.requests[0].body)["type"] == "review.escalated"


def test_signing_secrets_are_encrypted_and_rotate_with_source_secrets(db, endpoint,
                                                                      monkeypatch):
    from cryptography.fernet import Fernet

    from plugin.outbound.signing import unseal
    from tests.constants import TEST_FERNET_KEY

    endpoint_id, key = endpoint
    with db.session() as session:
        stored = session.get(WebhookEndpoint, endpoint_id).sealed_secret
    assert key not in stored and unseal(stored) == key
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", str(db.engine.url.render_as_string(False)))
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", f"{new},{TEST_FERNET_KEY}")
    rotated = CliRunner().invoke(cli, ["secrets", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "1 webhook signing secrets" in rotated.output
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", new)
    with db.session() as session:
        assert unseal(session.get(WebhookEndpoint, endpoint_id).sealed_secret) == key
