"""Searching the queue on SQLite (FTS5) and PostgreSQL (GIN full-text): words in the review,
its title, the public reply or any draft; every word must match, each as a prefix; case does not
matter (nor accents, on SQLite); operators typed by a person are plain words. Plus the overdue
filter."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from connectors.base import Review
from plugin import intake
from plugin.classify import classifier_for
from plugin.drafting import draft_review
from plugin.store import search
from plugin.store.models import DraftRow, ReviewRow
from plugin.store.reviews import ingest, save_draft, to_review
from plugin.web.filters import QueueFilter


def _store(database, policy, text: str, *, hours: float = 3, **fields) -> int:
    data = {"platform": "google_play", "external_id": uuid.uuid4().hex, "rating": 1,
            "author": "Ana", "text": text,
            "created_at": (datetime.now(UTC) - timedelta(hours=hours)).isoformat()}
    data.update(fields)
    review = Review.from_json(data)
    with database.session() as session:
        stored = ingest(session, review, classifier_for(policy).classify(review))
        save_draft(session, stored.row, draft_review(review, policy))
        return stored.row.id


def _found(database, query: str, **view) -> set[int]:
    with database.session() as session:
        return {row.id for row in QueueFilter(status="all", q=query, **view).rows(session, 100)}


def test_search_finds_words_in_reviews_titles_replies_and_drafts(database, policy):
    crash = _store(database, policy, "app crashs evry time i open it, fix plz!!!")
    german = _store(database, policy, "Die Torte war völlig zerdrückt. Nie wieder.",
                    language="de", title="Enttäuscht")
    cafe = _store(database, policy, "Café frío y el camarero muy borde", language="es")
    replied = _store(database, policy, "meh", rating=3,
                     reply={"text": "Thanks Ana, we rebuilt the onboarding screens.",
                            "updated_at": "2026-11-20T10:00:00Z"})
    assert _found(database, "crash") == {crash}            # prefix of "crashs"
    assert _found(database, "CRASHS evry") == {crash}      # every word, any case
    assert _found(database, "crash torte") == set()
    assert _found(database, "zerdrückt") == {german}
    assert _found(database, "enttäuscht") == {german}      # the title
    assert _found(database, "café") == {cafe}
    if database.engine.dialect.name == "sqlite":           # PostgreSQL's 'simple' keeps accents
        assert _found(database, "zerdruckt") == {german}
        assert _found(database, "cafe") == {cafe}
    assert _found(database, "onboarding") == {replied}     # the public reply
    assert _found(database, 'crash" OR "torte') == set()   # no query syntax from the box
    assert _found(database, "crash* NOT torte") == set()  # NOT is a word, not an operator
    assert _found(database, "crash", rating=2) == set()    # other filters still apply
    with database.session() as session:
        draft = session.query(DraftRow).filter_by(review_id=cafe).one()
        draft.text = "Lo sentimos mucho, le invitamos a un cortado la próxima vez."
    assert _found(database, "cortado") == {cafe}           # a draft, kept in step on update
    with database.session() as session:
        row = session.get(ReviewRow, crash)
        row.text = "works now, thx"
    assert _found(database, "evry") == set()     # drafts may name the crash too
    assert _found(database, "thx") == {crash}


def test_overdue_filter_uses_the_moment_given(database, policy):
    old = _store(database, policy, "waited 3 days for a refund", hours=80)
    _store(database, policy, "cold fries", hours=2)
    before = datetime.now(UTC) - timedelta(hours=48)
    with database.session() as session:
        rows = QueueFilter(overdue="yes", overdue_before=before).rows(session, 100)
    assert [r.id for r in rows] == [old]


def test_the_queue_page_searches_and_keeps_the_words(seed, as_role):
    one = seed(text="Pedido chegou frio e atrasado, que decepção", language="pt")
    seed(text="Lovely staff, thanks")
    client = as_role("viewer")
    html = client.get("/queue?q=decepcao").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)] == []  # viewer
    assert f'/reviews/{one}?' in html and "Lovely staff" not in html
    assert 'value="decepcao"' in html


def test_reviews_stored_in_bulk_are_found(database, policy):
    """New reviews go in as one executemany; the full-text index must still take each one."""
    reviews = [Review.from_json({
        "platform": "google_play", "external_id": f"bulk-{i}", "rating": 2, "author": "Ana",
        "text": text, "created_at": datetime.now(UTC).isoformat()})
        for i, text in enumerate(["Kuchen völlig zerdrückt", "Cold fries again", "😡 crashs",
                                  "الطلب وصل متأخر"])]
    with database.session() as session:
        stored = intake.take_in(session, reviews, policy, intake.Door("import"), batch_size=3)
        ids = [s.row.id for s in stored]
    assert [s.outcome for s in stored] == ["new"] * 4
    assert _found(database, "zerdrückt") == {ids[0]}
    assert _found(database, "fries") == {ids[1]}
    assert _found(database, "crash") == {ids[2]}
    assert _found(database, "متأخر") == {ids[3]}


ORDERS = [
    "order came cold again", "wrong order, no fries", "ordered twice, charged twice",
    "Order never arrived. Refund please", "order late 40 min", "my order was squashed 😡",
    "pedido (order) llegó frío", "the order app crashs on pay", "order ok but driver rude",
    "Bestellung (order #5521) kam nie an", "order missing the sauce", "order took ages",
    "cold order, cold staff", "order was fine, thx", "order: 2 burgers, got 1",
    "order arrived open", "Refund still not here for my order", "order again wrong",
]


def _orders(database, policy) -> list[int]:
    reviews = [Review.from_json({
        "platform": "google_business", "external_id": f"o-{i}", "rating": 1 + i % 5,
        "author": "Kim", "text": text,
        "created_at": (datetime.now(UTC) - timedelta(hours=3 * i + i % 4)).isoformat()})
        for i, text in enumerate(ORDERS)]
    with database.session() as session:
        ids = [s.row.id for s in intake.take_in(session, reviews, policy,
                                                intake.Door("import"))]
    with database.session() as session:
        for row_id in ids[:6]:
            row = session.get(ReviewRow, row_id)
            save_draft(session, row, draft_review(to_review(row), policy))
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE reviews")
            connection.exec_driver_sql("ANALYZE drafts")
    return ids


VIEWS = [dict(), dict(status="all", sort="newest"), dict(status="all", sort="rating", page=2),
         dict(status="all", rating=1), dict(status="all", page=4)]


def _pages(database, query: str) -> tuple[list[list[int]], list[dict[str, int]], bool, bool]:
    rows, counts = [], []
    with database.session() as session:
        for view in VIEWS:
            queue = QueueFilter(q=query, **view)
            rows.append([row.id for row in queue.rows(session, 5)])
            counts.append(queue.counts(session))
        planned = QueueFilter(q=query).search_plan(session)
    assert planned is not None
    return rows, counts, planned.at_least, planned.walk


def test_a_search_with_many_matches_finds_the_same_pages(database, policy, monkeypatch):
    """A word in every review walks the queue for its page and counts only its first
    matches; the pages are exactly those of collecting every match, the counts at most."""
    _orders(database, policy)
    exact_rows, exact_counts, at_least, walk = _pages(database, "order")
    assert not at_least and not walk
    assert len(exact_rows[0]) == 5 and len(exact_rows[4]) == 3
    assert sum(exact_counts[1].values()) == 18
    monkeypatch.setattr(search, "COUNTED", 4)
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    rows, counts, at_least, walk = _pages(database, "order")
    assert at_least and walk
    assert rows == exact_rows
    for view, capped, exact in zip(VIEWS, counts, exact_counts, strict=True):
        assert all(capped[s] <= exact[s] for s in exact)
        if "rating" not in view:   # the first three of each side, before other filters
            assert 3 <= sum(capped.values()) <= 6
    narrow_rows, _, at_least, walk = _pages(database, "refund")
    assert not at_least and not walk
    assert [len(r) for r in narrow_rows] == [2, 2, 0, 0, 0]


def test_a_word_that_starts_many_words_is_matched_as_a_prefix(database, policy, monkeypatch):
    ids = _orders(database, policy)
    monkeypatch.setattr(search, "MAX_TERMS", 1)
    assert _found(database, "ord") == set(ids)              # "order", "ordered"
    assert _found(database, "ordered") == {ids[2]}
    assert _found(database, "frio") == ({ids[6]} if database.engine.dialect.name == "sqlite"
                                        else set())
    assert _found(database, "nosuchword order") == set()


def test_the_queue_says_at_least_and_pages_on(seed, as_role, app, monkeypatch):
    for hours in range(7):
        seed(text=f"Sorry state of this order, {hours} h late")
    monkeypatch.setattr(search, "COUNTED", 2)
    monkeypatch.setattr(search, "COUNT_CAP", 4)
    app.config["QUEUE_PAGE_SIZE"] = 3
    client = as_role("approver")
    html = client.get("/queue?q=sorry+late").get_data(as_text=True)
    assert "of 4+" in html and "Page 1 of 2+" in html and 'rel="next"' in html
    last = client.get("/queue?q=sorry+late&page=3").get_data(as_text=True)
    assert len(re.findall(r'name="ids" value="(\d+)"', last)) == 1
    assert 'rel="next"' not in last
