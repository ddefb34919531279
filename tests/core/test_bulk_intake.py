"""Storing a batch in bulk gives exactly what storing it one review at a time gives: the same
outcomes, rows, audit log, revisions and outbound events, for new, edited and unchanged reviews
mixed in one batch; and its statements do not grow with the number of reviews."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from plugin import intake
from plugin.outbound.events import EVENTS, install
from plugin.outbound.models import Delivery, OutboxEvent, WebhookEndpoint
from plugin.store import states
from plugin.store.models import AuditRow, ReviewRow, RevisionRow
from plugin.store.reviews import ingest

IMPORT = intake.Door("import")

# Stored before the batch, with the state each is in when the batch brings it again.
KNOWN = {
    "k-drafted": (states.DRAFTED, {"rating": 2, "text": "Delivery was late."}),
    "k-approved": (states.APPROVED, {"rating": 2, "text": "Rude waiter."}),
    "k-posted": (states.POSTED, {"rating": 1, "text": "Cold soup.", "platform": "google_play"}),
    "k-same": (states.NEW, {"rating": 3, "text": "Okay coffee, slow wifi."}),
    "k-reply": (states.DRAFTED, {"rating": 4, "text": "Nice staff."}),
}

# The batch: messy new reviews between edits and repeats of the known ones.
BATCH: list[dict[str, Any]] = [
    {"external_id": "n-emoji", "rating": 1, "text": "😡😡😡 🍕🥶"},
    {"external_id": "k-drafted", "rating": 3, "text": "Delivery was late but they fixed it."},
    {"external_id": "n-arabic", "rating": 2, "platform": "google_play",
     "text": "الطلب وصل متأخر جدا والأكل كان بارد"},
    {"external_id": "n-hebrew", "rating": 1, "platform": "app_store", "title": "גרוע",
     "text": "האפליקציה קורסת כל פעם שאני נכנס"},
    {"external_id": "k-same", "rating": 3, "text": "Okay coffee, slow wifi."},
    {"external_id": "n-empty", "rating": 5, "text": ""},
    {"external_id": "k-approved", "rating": 1,
     "text": "Rude waiter, and I got food poisoning. My lawyer will hear about this."},
    {"external_id": "n-two-words", "rating": 2, "text": "Cold food."},
    {"external_id": "k-reply", "rating": 4, "text": "Nice staff.",
     "reply": {"text": "Thank you, see you soon!", "updated_at": "2026-11-05T10:00:00Z"}},
    {"external_id": "n-lawyer", "rating": 1, "language": "en",
     "text": "I found glass in my bread and went to hospital. My lawyer is on it.",
     "metadata": {"appVersionName": "2.1"}, "url": "https://maps.example.com/r/1"},
    {"external_id": "k-posted", "rating": 2, "platform": "google_play",
     "text": "Cold soup, and nobody answered the phone."},
    {"external_id": "n-mixed", "rating": 2, "author": "Zoë 🌸",
     "text": "Delivery bahut late thi yaar, khana bilkul thanda tha"},
]

ROW_FIELDS = ("platform", "source", "author", "rating", "title", "text", "language",
              "declared_language", "review_created_at", "review_updated_at", "platform_reply",
              "platform_reply_at", "url", "meta", "content_hash", "categories",
              "escalation_reasons", "escalated", "answerable", "status", "status_reason",
              "follow_up")


@pytest.fixture
def events_on(monkeypatch):
    """Outbound events as the app and the worker wire them, with endpoints that differ in what
    they take: one subscribed to everything, one to replies only, one disabled."""
    monkeypatch.setattr(states, "LISTENERS", [])
    install()


def _prepare(database, policy, make_review) -> None:
    with database.session() as session:
        session.add_all([
            WebhookEndpoint(url="https://hooks.example.com/all", events=list(EVENTS),
                            sealed_secret="sealed"),
            WebhookEndpoint(url="https://hooks.example.com/replies", events=["reply.posted"],
                            sealed_secret="sealed"),
            WebhookEndpoint(url="https://hooks.example.com/off", events=list(EVENTS),
                            sealed_secret="sealed", enabled=False),
        ])
        known = [make_review(external_id=key, **fields) for key, (_, fields) in KNOWN.items()]
        intake.take_in(session, known, policy, intake.Door("sync:cafe"))
    with database.session() as session:
        for key, (status, _) in KNOWN.items():
            row = session.scalar(select(ReviewRow).where(ReviewRow.external_id == key))
            row.status = status


def _snapshot(session, stored) -> dict[str, Any]:
    """Everything a store call changed, with ids replaced by external ids: ids differ between
    two runs on PostgreSQL, whose sequences do not roll back."""
    session.flush()
    keys = dict(session.execute(select(ReviewRow.id, ReviewRow.external_id)).all())
    returned = [(s.row.external_id, s.outcome, {f: getattr(s.row, f) for f in ROW_FIELDS})
                for s in stored]
    session.expire_all()
    in_database = {row.external_id: {f: getattr(row, f) for f in ROW_FIELDS}
                   for row in session.scalars(select(ReviewRow))}
    audit = [(keys.get(a.review_id), a.actor, a.action, a.from_state, a.to_state, a.reason)
             for a in session.scalars(select(AuditRow).order_by(AuditRow.id))]
    revisions = [(keys[r.review_id], r.rating, r.text, r.content_hash)
                 for r in session.scalars(select(RevisionRow).order_by(RevisionRow.id))]
    outbox = []
    for item in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)):
        data = dict(item.payload["data"])
        review = dict(data.pop("review"))
        assert review.pop("id") == int(review.pop("api_path").rsplit("/", 1)[1])
        endpoints = session.scalars(select(WebhookEndpoint.url).join(Delivery).where(
            Delivery.event_id == item.id).order_by(Delivery.id)).all()
        outbox.append((item.type, item.payload["type"], review, data, endpoints))
    return {"returned": returned, "rows": in_database, "audit": audit,
            "revisions": revisions, "outbox": outbox}


def _per_review(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with the audit log and the events grouped by review, each group in its own
    order: a batch writes its edits before its new reviews, one at a time interleaves them."""
    audit: dict[str | None, list[tuple]] = {}
    for entry in snapshot["audit"]:
        audit.setdefault(entry[0], []).append(entry)
    outbox: dict[str, list[tuple]] = {}
    for entry in snapshot["outbox"]:
        outbox.setdefault(entry[2]["external_id"], []).append(entry)
    return {**snapshot, "audit": audit, "outbox": outbox}


def _run(database, store) -> dict[str, Any]:
    """What `store` does to the prepared database, rolled back afterwards."""
    session = database.sessions()
    try:
        return _snapshot(session, store(session))
    finally:
        session.rollback()
        session.close()


def test_a_mixed_batch_stores_as_one_review_at_a_time_would(database, policy, make_review,
                                                            events_on):
    _prepare(database, policy, make_review)
    classified = intake.classify([make_review(**fields) for fields in BATCH], policy)

    def one_at_a_time(session):
        return [ingest(session, c.review, c.classification, actor="import") for c in classified]

    def in_bulk(session):
        return intake.store(session, classified, IMPORT, batch_size=5)

    expected, got = _run(database, one_at_a_time), _run(database, in_bulk)
    assert _per_review(got) == _per_review(expected)

    outcomes = {key: outcome for key, outcome, _ in got["returned"]}
    assert outcomes == {
        "n-emoji": "new", "k-drafted": "updated", "n-arabic": "new", "n-hebrew": "new",
        "k-same": "unchanged", "n-empty": "new", "k-approved": "updated", "n-two-words": "new",
        "k-reply": "unchanged", "n-lawyer": "new", "k-posted": "updated", "n-mixed": "new"}
    rows = got["rows"]
    assert rows["n-emoji"]["text"] == "😡😡😡 🍕🥶" and rows["n-emoji"]["language"] is None
    assert rows["n-arabic"]["text"] == BATCH[2]["text"] and rows["n-hebrew"]["title"] == "גרוע"
    assert (rows["n-empty"]["rating"], rows["n-empty"]["text"]) == (5, "")
    assert rows["n-lawyer"]["escalated"] and rows["n-lawyer"]["meta"] == {"appVersionName": "2.1"}
    assert rows["n-mixed"]["author"] == "Zoë 🌸"
    assert (rows["k-drafted"]["status"], rows["k-posted"]["status"]) == (states.NEW,
                                                                          states.NEEDS_ATTENTION)
    assert rows["k-posted"]["follow_up"]
    assert rows["k-reply"]["platform_reply"] == "Thank you, see you soon!"
    received = [(key, "import", "received", states.NEW, states.NEW, "") for key in (
        "n-emoji", "n-arabic", "n-hebrew", "n-empty", "n-two-words", "n-lawyer", "n-mixed")]
    # Batches of five: each writes its edits, then its new reviews.
    assert [a for a in got["audit"] if a[1] == "import"] == [
        ("k-drafted", "import", "edited_by_customer", states.DRAFTED, states.DRAFTED, ""),
        ("k-drafted", "import", "transition", states.DRAFTED, states.NEW,
         "The customer edited the review; draft again"),
        *received[:3],
        ("k-approved", "import", "edited_by_customer", states.APPROVED, states.APPROVED, ""),
        ("k-approved", "import", "transition", states.APPROVED, states.NEEDS_ATTENTION,
         "The customer edited the review after the reply was approved; check it still fits"),
        *received[3:6],
        ("k-posted", "import", "edited_by_customer", states.POSTED, states.POSTED, ""),
        ("k-posted", "import", "transition", states.POSTED, states.NEEDS_ATTENTION,
         "The customer edited the review after our reply; consider a follow-up"),
        *received[6:],
    ]
    assert [r[:3] for r in got["revisions"]] == [
        ("k-drafted", 2, "Delivery was late."), ("k-approved", 2, "Rude waiter."),
        ("k-posted", 1, "Cold soup.")]
    received_before = [e for e in got["outbox"] if e[2]["external_id"].startswith("k-")
                       and e[0] == "review.received"]
    assert len(received_before) == len(KNOWN)
    batch_events = got["outbox"][len(KNOWN):]
    everything = ["https://hooks.example.com/all"]
    assert [(kind, review["external_id"], endpoints)
            for kind, _, review, _, endpoints in batch_events] == [
        *[("review.received", key, everything) for key in ("n-emoji", "n-arabic", "n-hebrew")],
        ("review.escalated", "k-approved", everything),
        *[("review.received", key, everything) for key in ("n-empty", "n-two-words",
                                                            "n-lawyer", "n-mixed")]]
    lawyer = next(review for _, _, review, _, _ in batch_events
                  if review["external_id"] == "n-lawyer")
    assert lawyer["escalated"] and lawyer["status"] == states.NEW
    assert {"legal", "injury"} <= set(lawyer["escalation_reasons"])


@contextmanager
def _statements(database) -> Iterator[list[str]]:
    """Every statement sent to the database inside the block (an executemany counts once)."""
    seen: list[str] = []

    def _seen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", _seen)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", _seen)


def _subscribe_to_all(database) -> None:
    with database.session() as session:
        session.add(WebhookEndpoint(url="https://hooks.example.com/all", events=list(EVENTS),
                                    sealed_secret="sealed"))


def test_statements_per_batch_do_not_grow_with_its_reviews(database, policy, make_review,
                                                            events_on):
    _subscribe_to_all(database)
    counts = []
    for size in (10, 40):
        classified = intake.classify(
            [make_review(external_id=f"s{size}-{i}", text=f"Cold food again, day {i}.")
             for i in range(size)], policy)
        with _statements(database) as seen, database.session() as session:
            stored = intake.store(session, classified, IMPORT, batch_size=size)
            assert [s.outcome for s in stored] == ["new"] * size
        counts.append(len(seen))
    assert counts[0] == counts[1]
    with database.session() as session:
        assert session.scalar(select(func.count(AuditRow.id))) == 50
        assert session.scalar(select(func.count(OutboxEvent.id))) == 50
        assert session.scalar(select(func.count(Delivery.id))) == 50


def test_subscriptions_are_looked_up_once_per_transaction(database, policy, make_review,
                                                           events_on):
    """Three batches in one unit of work read the endpoints once, not once a batch."""
    _subscribe_to_all(database)
    classified = intake.classify([make_review(external_id=f"w-{i}", text="Cold food.")
                                  for i in range(7)], policy)
    with _statements(database) as seen, database.session() as session:
        intake.store(session, classified, IMPORT, batch_size=3)
    assert len([s for s in seen if "FROM webhook_endpoints" in s]) == 1
    with database.session() as session:
        received = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        assert [e.payload["data"]["review"]["external_id"] for e in received] == \
            [f"w-{i}" for i in range(7)]
        assert {e.type for e in received} == {"review.received"}


def test_an_endpoint_added_between_transactions_of_one_session_gets_the_next_events(
        database, policy, make_review, events_on):
    """The endpoints are read once a transaction: a session that took reviews in while nobody
    listened sees an endpoint added meanwhile from its next transaction on."""
    first = intake.classify([make_review(external_id="quiet", text="meh, cold chips")], policy)
    later = intake.classify([make_review(external_id="heard", text="chips were cold AGAIN")],
                            policy)
    session = database.sessions()
    try:
        intake.store(session, first, IMPORT)
        session.commit()
        _subscribe_to_all(database)
        intake.store(session, later, IMPORT)
        session.commit()
    finally:
        session.close()
    with database.session() as session:
        received = session.scalars(select(OutboxEvent)).all()
        assert [e.payload["data"]["review"]["external_id"] for e in received] == ["heard"]
