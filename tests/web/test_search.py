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
from plugin.store.models import DraftRow, ReviewRow
from plugin.store.reviews import ingest, save_draft
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
