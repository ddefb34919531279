"""The queue's tallies equal a fresh COUNT(*) after every kind of change, on both engines, before
and after they are folded; and read sessions refuse writes instead of taking the write lock."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import delete, func, literal_column, select, text, update
from sqlalchemy.exc import DBAPIError

from plugin import intake
from plugin.drafting import draft_review
from plugin.store import states, tallies
from plugin.store.models import ReviewRow
from plugin.store.reviews import save_draft

IMPORT = intake.Door("import")

REVIEWS = [
    {"rating": 1, "text": "Pizza came cold and 40 min late, never again"},
    {"rating": 2, "text": "waiter was rude af, no one said sorry", "platform": "google_play"},
    {"rating": 5, "text": "Beste Torte der Stadt!! Danke 🙏", "language": "de"},
    {"rating": 1, "text": "الطلب وصل متأخر جدا والأكل كان بارد", "platform": "app_store"},
    {"rating": 3, "text": "ok ok, parking is a nightmre tho"},
    {"rating": 1, "text": "I got food poisning from the chicken. my lawyer will call"},
    {"rating": 4, "text": "Delivery bahut late thi but khana accha tha"},
    {"rating": 2, "text": "app crashes evry time i open the cart", "platform": "google_play"},
]

# Filters the queue asks the tallies about (names of `tallies.KEYS`).
VIEWS = [{}, {"platform": "google_play"}, {"rating": 1}, {"platform": "google_business"},
         {"escalated": True}, {"escalated": False, "rating": 2}, {"rating": 2, "policy": ""},
         {"assignee": ""}, {"assignee": "maria"},
         {"source": "", "policy": ""}, {"replied": True}, {"replied": False, "escalated": True}]


def fresh(session, **equal) -> dict[str, int]:
    """What the tallies must say, counted from the rows."""
    key = {k.name: literal_column(f"({k.expression.format(row='reviews')})")
           for k in tallies.KEYS}
    stmt = select(ReviewRow.status, func.count()).group_by(ReviewRow.status)
    for name, value in equal.items():
        stmt = stmt.where(key[name] == value)
    return dict(session.execute(stmt).all())


def assert_tallies_match(session) -> None:
    for view in VIEWS:
        assert tallies.status_counts(session, **view) == fresh(session, **view), view


def test_tallies_equal_a_fresh_count_after_every_kind_of_change(database, make_review, policy):
    with database.session() as session:
        stored = intake.take_in(session, [make_review(**fields) for fields in REVIEWS], policy,
                                IMPORT)
        assert_tallies_match(session)
        assert sum(tallies.status_counts(session).values()) == len(REVIEWS)
        ids = [item.row.id for item in stored]
    with database.session() as session:
        rows = {row.id: row for row in session.scalars(select(ReviewRow))}
        for review_id in ids[:6]:
            row = rows[review_id]
            save_draft(session, row, draft_review(make_review(**REVIEWS[ids.index(review_id)]),
                                                  policy))
        states.transition(session, rows[ids[6]], states.SKIPPED, actor="maria", reason="spam")
        assert_tallies_match(session)
    with database.session() as session:
        rows = {row.id: row for row in session.scalars(select(ReviewRow))}
        drafted = [r for r in rows.values() if r.status == states.DRAFTED]
        assert len(drafted) >= 2
        first, second = drafted[:2]
        states.transition(session, first, states.APPROVED, actor="maria")
        states.transition(session, first, states.POSTING, actor="worker")
        states.transition(session, first, states.POSTED, actor="worker")
        states.transition(session, second, states.APPROVED, actor="maria")
        states.transition(session, second, states.DRAFTED, actor="maria",
                          reason="rejected: offer too generous")
        session.execute(update(ReviewRow).where(ReviewRow.id == second.id)
                        .values(assignee="maria", has_offer=True, violation_count=2))
        session.execute(update(ReviewRow).where(ReviewRow.id == ids[0])
                        .values(escalated=True, rating=2, attempts=4))
        assert_tallies_match(session)
        assert tallies.fold(session) > 0
        assert_tallies_match(session)
        session.execute(delete(ReviewRow).where(ReviewRow.id.in_(ids[1:3])))
        assert_tallies_match(session)
    with database.session() as session:
        tallies.fold(session)
        assert_tallies_match(session)
        # Folded: one row per key in use, none left at zero.
        keys = [k.name for k in tallies.KEYS]
        rows = session.execute(text(f"SELECT {', '.join(keys)}, reviews FROM review_tallies"))
        seen = [tuple(row[:-1]) for row in rows if row[-1]]
        assert len(seen) == len(set(seen))
        assert session.scalar(text("SELECT count(*) FROM review_tallies WHERE reviews = 0")) == 0


def test_a_read_session_refuses_writes(database, make_review, policy):
    with database.session() as session:
        intake.take_in(session, [make_review(**REVIEWS[0])], policy, IMPORT)
    with pytest.raises(DBAPIError, match="read-only|readonly"), \
            database.session(read_only=True) as session:
        assert session.scalar(select(func.count(ReviewRow.id))) == 1
        session.execute(update(ReviewRow).values(rating=5))
    with database.session() as session:
        assert session.scalar(select(ReviewRow.rating)) == 1
        session.execute(update(ReviewRow).values(rating=4))  # the pooled connection writes again
    with database.session(read_only=True) as session:
        assert session.scalar(select(ReviewRow.rating)) == 4


def test_a_read_session_reads_while_another_connection_holds_the_write_lock(
        sqlite_url, make_review, policy):
    from plugin.store.db import Database

    database = Database(sqlite_url)
    with database.session() as session:
        intake.take_in(session, [make_review(**REVIEWS[4])], policy, IMPORT)
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE reviews SET rating = 1")
        with database.session(read_only=True) as session:
            assert session.scalar(select(ReviewRow.rating)) == 3
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        database.dispose()
