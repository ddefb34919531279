from sqlalchemy import func, select

from plugin.classify import classifier_for
from plugin.drafting import draft_review
from plugin.store import states
from plugin.store.models import DraftRow, ReviewRow, RevisionRow
from plugin.store.reviews import ingest, save_draft, to_review


def put(session, policy, review):
    return ingest(session, review, classifier_for(policy).classify(review))


def test_same_review_twice_is_not_duplicated(database, policy, make_review):
    review = make_review(external_id="gbp-1")
    with database.session() as session:
        assert put(session, policy, review).outcome == "new"
    with database.session() as session:
        assert put(session, policy, review).outcome == "unchanged"
        assert session.scalar(select(func.count(ReviewRow.id))) == 1


def test_same_id_on_another_platform_is_another_review(database, policy, make_review):
    with database.session() as session:
        put(session, policy, make_review(external_id="x", platform="google_play"))
        assert put(session, policy, make_review(external_id="x")).outcome == "new"


def test_edit_is_recorded_and_redrafted(database, policy, make_review):
    first = make_review(external_id="e1", rating=1, text="Delivery was late.")
    with database.session() as session:
        row = put(session, policy, first).row
        save_draft(session, row, draft_review(first, policy))
        assert row.status == states.DRAFTED
    edited = make_review(external_id="e1", rating=3, text="Delivery was late but they fixed it.")
    with database.session() as session:
        result = put(session, policy, edited)
        assert result.outcome == "updated"
        assert result.row.status == states.NEW and result.row.rating == 3
        revisions = session.scalars(select(RevisionRow)).all()
        assert [(r.rating, r.text) for r in revisions] == [(1, "Delivery was late.")]


def test_edit_after_posting_flags_a_follow_up(database, policy, make_review):
    with database.session() as session:
        row = put(session, policy, make_review(external_id="p1")).row
        row.status = states.POSTED
    with database.session() as session:
        result = put(session, policy, make_review(external_id="p1", rating=4))
        assert result.row.status == states.NEEDS_ATTENTION and result.row.follow_up


def test_drafts_are_versioned_and_escalations_need_attention(database, policy, make_review):
    review = make_review(text="I found glass in my bread and went to hospital.")
    with database.session() as session:
        row = put(session, policy, review).row
        save_draft(session, row, draft_review(review, policy))
        save_draft(session, row, draft_review(review, policy, instruction="shorter"))
        versions = session.scalars(select(DraftRow.version).where(DraftRow.review_id == row.id))
        assert list(versions) == [1, 2]
        assert row.status == states.NEEDS_ATTENTION and row.escalated


def test_stored_row_gives_back_the_review(database, policy, make_review):
    review = make_review(metadata={"appVersionName": "2.1"}, language="en",
                         reply={"text": "Thanks", "updated_at": "2026-11-03T08:00:00Z"})
    with database.session() as session:
        row = put(session, policy, review).row
        assert to_review(row) == review
