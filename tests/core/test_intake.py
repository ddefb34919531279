"""Intake: messy reviews classified and stored in batches, audited under the door's name."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from plugin import intake
from plugin.classify import classifier_for
from plugin.store.models import AuditRow, ReviewRow, RevisionRow

WEBHOOK = intake.Door("webhook")

MESSY = [
    {"external_id": "two-words", "rating": 2, "text": "Cold food."},
    {"external_id": "hinglish", "rating": 2,
     "text": "Delivery bahut late thi yaar, khana bilkul thanda tha"},
    {"external_id": "emoji", "rating": 1, "text": "😡😡😡"},
    {"external_id": "rating-only", "rating": 5, "text": ""},
    {"external_id": "lawyer", "rating": 1,
     "text": "I got food poisoning after the chicken, my lawyer will hear about this"},
]


def _audit(session, row: ReviewRow) -> list[tuple[str, str]]:
    return [(a.actor, a.action) for a in session.scalars(
        select(AuditRow).where(AuditRow.review_id == row.id).order_by(AuditRow.id))]


def test_messy_reviews_are_stored_in_order_with_their_classification(database, policy,
                                                                     make_review):
    reviews = [make_review(**fields) for fields in MESSY]
    with database.session() as session:
        stored = intake.take_in(session, reviews, policy, WEBHOOK, batch_size=2)
        assert [s.outcome for s in stored] == ["new"] * len(MESSY)
        assert [s.row.external_id for s in stored] == [f["external_id"] for f in MESSY]
        classifier = classifier_for(policy)
        for review, item in zip(reviews, stored, strict=True):
            expected = classifier.classify(review)
            assert (item.row.language, item.row.categories, item.row.escalation_reasons) == \
                (expected.language, expected.categories, expected.escalation_reasons)
            assert _audit(session, item.row) == [("webhook", "received")]
            assert item.row.answerable
        rows = {s.row.external_id: s.row for s in stored}
        assert rows["hinglish"].language == "hi"
        assert "delivery" in rows["hinglish"].categories
        assert rows["emoji"].language is None and rows["emoji"].text == "😡😡😡"
        assert (rows["rating-only"].rating, rows["rating-only"].text) == (5, "")
        assert rows["lawyer"].escalated
        assert {"legal", "injury"} <= set(rows["lawyer"].escalation_reasons)
    with database.session() as session:
        assert session.scalar(select(func.count(ReviewRow.id))) == len(MESSY)


def test_a_repeated_review_with_new_text_is_an_edit_by_the_door_that_brought_it(
        database, policy, make_review):
    with database.session() as session:
        first, = intake.take_in(session, [make_review(external_id="r1", text="Cold food.")],
                                policy, intake.Door("sync:cafe-gbp"))
        assert (first.outcome, first.row.escalated) == ("new", False)
    edited = make_review(external_id="r1", rating=1,
                         text="Cold food, and the manager shouted at me. My lawyer is on it.")
    with database.session() as session:
        again, = intake.take_in(session, [edited], policy, intake.Door("token:crm"))
        assert again.outcome == "updated"
        assert again.row.text == edited.text and again.row.escalated
        assert "legal" in again.row.escalation_reasons
        assert _audit(session, again.row) == [("sync:cafe-gbp", "received"),
                                              ("token:crm", "edited_by_customer")]
        assert session.scalars(select(RevisionRow.text)).all() == ["Cold food."]
    with database.session() as session:
        third, = intake.take_in(session, [edited], policy, WEBHOOK)
        assert third.outcome == "unchanged"
        assert len(_audit(session, third.row)) == 2


def test_answerability_is_the_first_door_s(database, policy, make_review):
    review = make_review(external_id="feed-1", platform="app_store")
    with database.session() as session:
        read_only, = intake.take_in(session, [review], policy,
                                    intake.Door("sync:feed", answerable=False))
        assert not read_only.row.answerable
    changed = make_review(external_id="feed-1", platform="app_store", text="Crashes on start.")
    with database.session() as session:
        later, = intake.take_in(session, [changed], policy, WEBHOOK)
        assert later.outcome == "updated" and not later.row.answerable


def test_a_door_that_does_not_refresh_leaves_known_reviews_alone(database, policy,
                                                                 make_review):
    with database.session() as session:
        intake.take_in(session, [make_review(external_id="k1", text="Great coffee.")], policy,
                       intake.Door("sync:play"))
    older = make_review(external_id="k1", text="Great coffee, slow wifi.")
    fresh = make_review(external_id="k2", text="Lovely staff.")
    export = intake.Door("play_export", refresh_known=False)
    with database.session() as session:
        stored = intake.take_in(session, [older, fresh], policy, export, batch_size=1)
        assert [(s.row.external_id, s.outcome) for s in stored] == [("k1", "unchanged"),
                                                                     ("k2", "new")]
        assert stored[0].row.text == "Great coffee."
        assert session.scalar(select(func.count(RevisionRow.id))) == 0
        assert _audit(session, stored[1].row) == [("play_export", "received")]


def test_a_review_given_twice_is_refused_before_anything_is_stored(database, policy,
                                                                   make_review):
    reviews = [make_review(external_id="d1"), make_review(external_id="d2"),
               make_review(external_id="d1", text="Second thoughts.")]
    with database.session() as session, \
            pytest.raises(ValueError, match=r"reviews\[2\]\.external_id: 'd1'"):
        intake.take_in(session, reviews, policy, WEBHOOK, batch_size=1)
    with database.session() as session:
        assert session.scalar(select(func.count(ReviewRow.id))) == 0


@pytest.mark.parametrize("actor", ["", "   "])
def test_a_door_names_who_brought_the_reviews(actor):
    with pytest.raises(ValueError, match="^actor: "):
        intake.Door(actor)


def test_classifying_needs_no_database(policy, make_review):
    classified = intake.classify([make_review(text="Cold food.")], policy)
    assert classified[0].classification.categories == ["quality"]


def test_a_batch_mixing_sources_keeps_its_order_and_each_source_s_terms(database, policy,
                                                                        make_review, tmp_path):
    """Reviews of a read-only feed and of an answerable source, interleaved across batches,
    come back in the order given, each as answerable as its own source."""
    reviews = [make_review(external_id=f"m-{i}", source="ios-feed" if i % 3 == 0 else "cafe",
                           text=text)
               for i, text in enumerate(["app keeps logging me out", "Cold food.", "ok",
                                         "Kalt und zu spät", "nice", "lost my data!!"])]
    sources = intake.Sources(read_only=frozenset({"ios-feed"}))
    with database.session() as session:
        stored = intake.take_in(session, reviews, policy, WEBHOOK, sources=sources,
                                batch_size=4)
        assert [s.row.external_id for s in stored] == [r.external_id for r in reviews]
        assert [s.row.answerable for s in stored] == [r.source != "ios-feed" for r in reviews]
