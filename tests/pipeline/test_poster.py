"""Posting transitions on both engines: claim, post, retry, fail, refuse; with a real HTTP fake."""
from datetime import timedelta

import pytest
from conftest import APPROVER, load
from sqlalchemy import select

from plugin.actions import ActionError, Actor
from plugin.pipeline.claims import PostRefused, claim_for_posting
from plugin.pipeline.models import ReplyAttemptRow
from plugin.pipeline.poster import post_one
from plugin.posting import request_post
from plugin.store import states
from plugin.store.models import AuditRow, DraftRow, ReviewRow, utcnow
from plugin.store.reviews import text_hash


def approved_text(database, review_id):
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        return session.get(DraftRow, row.current_draft_id).text


def test_post_one_posts_the_approved_text_once(database, approved, platform, connector, fast):
    review_id, external_id = approved()
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    row = load(database, review_id)
    assert outcome.status == row.status == states.POSTED
    assert platform.writes_for(external_id) == [approved_text(database, review_id)]
    assert text_hash(platform.writes_for(external_id)[0]) == row.approved_text_hash
    assert row.post_state == "published" and row.posted_at is not None
    assert row.claimed_by is None and row.lease_until is None
    with database.session() as session:
        moves = [(a.from_state, a.to_state) for a in session.scalars(
            select(AuditRow).where(AuditRow.review_id == review_id,
                                   AuditRow.action == "transition"))]
        attempt = session.scalars(select(ReplyAttemptRow)).one()
    assert moves[-2:] == [(states.APPROVED, states.POSTING), (states.POSTING, states.POSTED)]
    assert attempt.outcome == "posted" and attempt.text_hash == row.approved_text_hash


@pytest.mark.parametrize("status", [s for s in states.STATES if s != states.APPROVED])
def test_posting_a_review_that_is_not_approved_calls_no_platform(
        database, approved, platform, connector, fast, status):
    review_id, _ = approved()
    with database.session() as session:
        session.get(ReviewRow, review_id).status = status
    with pytest.raises(PostRefused):
        post_one(database, review_id, connector, APPROVER, settings=fast)
    assert platform.reads == [] and platform.write_requests == []
    assert load(database, review_id).status == status


def test_an_editor_cannot_post(database, approved, platform, connector, fast):
    review_id, _ = approved()
    with pytest.raises(ActionError):
        post_one(database, review_id, connector, Actor("ed", "editor"), settings=fast)
    assert platform.reads == [] and platform.write_requests == []
    assert load(database, review_id).status == states.APPROVED


def test_text_changed_after_approval_goes_to_a_person(database, approved, platform, connector,
                                                      fast):
    review_id, _ = approved()
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        session.get(DraftRow, row.current_draft_id).text += " P.S. one more thing"
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    assert outcome.status == load(database, review_id).status == states.NEEDS_ATTENTION
    assert platform.reads == [] and platform.write_requests == []


def test_missing_approver_is_refused_by_the_worker_claim(database, approved, platform, fast):
    review_id, _ = approved()
    with database.session() as session:
        session.get(ReviewRow, review_id).approved_by = None
    with database.session() as session:
        assert claim_for_posting(session, "w1", lease=fast.lease) == []
    assert load(database, review_id).status == states.NEEDS_ATTENTION
    assert platform.write_requests == []


def test_a_second_claim_of_the_same_review_gets_nothing(database, approved):
    review_id, _ = approved()
    # A lease no busy machine outlasts between the two claims: the first is still held.
    lease = timedelta(minutes=5)
    with database.session() as session:
        first = claim_for_posting(session, "w1", lease=lease, limit=5)
    with database.session() as session:
        second = claim_for_posting(session, "w2", lease=lease, limit=5)
    assert [c.review_id for c in first] == [review_id] and second == []
    row = load(database, review_id)
    assert row.status == states.POSTING and row.claimed_by == "w1"
    assert row.lease_until > utcnow()


def test_not_yet_due_reviews_are_not_claimed(database, approved, fast):
    review_id, _ = approved()
    with database.session() as session:
        session.get(ReviewRow, review_id).next_attempt_at = utcnow() + timedelta(hours=1)
    with database.session() as session:
        assert claim_for_posting(session, "w1", lease=fast.lease) == []


def test_permanent_error_fails_with_the_platform_message(database, approved, platform,
                                                         connector, fast):
    review_id, external_id = approved()
    platform.server.RequestHandlerClass.do_PUT = (
        lambda self: self._send(400, {"error": "Reply violates policy"}))
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    row = load(database, review_id)
    assert outcome.status == row.status == states.FAILED
    assert "Reply violates policy" in row.last_error
    assert row.approved_by == "alice"


def test_rate_limit_reschedules_no_sooner_than_retry_after(database, approved, platform,
                                                           connector, fast):
    review_id, external_id = approved()
    platform.rate_limit[external_id] = 7
    before = utcnow()
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    row = load(database, review_id)
    assert outcome.status == row.status == states.APPROVED
    assert row.attempts == 1 and row.next_attempt_at >= before + timedelta(seconds=7)
    assert platform.writes == [] and row.approved_text_hash


def test_someone_elses_reply_blocks_until_a_person_confirms(database, approved, platform,
                                                            connector, fast, policy):
    review_id, external_id = approved()
    platform.someone_else_replied(external_id, "Thanks, sorted it by phone. — Sam")
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    row = load(database, review_id)
    assert outcome.status == row.status == states.NEEDS_ATTENTION
    assert row.platform_reply == "Thanks, sorted it by phone. — Sam"
    assert platform.write_requests == []
    from plugin.actions import approve
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        approve(session, row, policy, APPROVER, override_reason="replace the phone note")
        request_post(session, row, APPROVER, overwrite_reason="Sam's note is out of date")
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    assert outcome.status == states.POSTED
    assert platform.writes_for(external_id) == [approved_text(database, review_id)]
    with database.session() as session:
        confirmations = session.scalars(select(AuditRow).where(
            AuditRow.review_id == review_id, AuditRow.action == "overwrite_confirmed")).all()
    assert [a.actor for a in confirmations] == ["alice"]


def test_our_text_already_there_is_recorded_without_a_write(database, approved, platform,
                                                            connector, fast):
    review_id, external_id = approved()
    platform.someone_else_replied(external_id, "  " + approved_text(database, review_id) + "\n")
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    assert outcome.status == states.POSTED and not outcome.wrote
    assert platform.write_requests == []


def test_pending_publication_is_followed_until_published(database, approved, platform,
                                                         connector, fast):
    platform.publish_after_reads = 4
    platform.state = "pending_publish"
    review_id, external_id = approved()
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    assert outcome.status == states.POSTED
    row = load(database, review_id)
    assert row.post_state == "pending_publish" and row.next_attempt_at is not None
    from plugin.pipeline.registry import StepContext
    from plugin.pipeline.steps import publication_step
    context = StepContext(db=database, policy=None, worker="w", settings=fast,
                          resolve=lambda review: connector)
    for _ in range(5):
        with database.session() as session:
            session.get(ReviewRow, review_id).next_attempt_at = utcnow()
        publication_step(context)
    row = load(database, review_id)
    assert row.status == states.POSTED and row.post_state == "published"
    assert row.next_attempt_at is None
    assert platform.write_counts()[external_id] == 1


def test_posting_never_sleeps_and_leaves_rechecks_to_a_worker_step(
        database, approved, platform, connector, fast, monkeypatch):
    """A reply the platform holds for review (App Store) is recorded as posted and pending at
    once; reading it again is a time on the row for the publication step, never a sleep."""
    import time
    platform.publish_after_reads = 3
    platform.state = "pending_publish"

    def no_sleep(seconds):
        raise AssertionError(f"the poster slept {seconds} s")

    monkeypatch.setattr(time, "sleep", no_sleep)
    review_id, _ = approved()
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    row = load(database, review_id)
    assert outcome.status == row.status == states.POSTED
    assert row.post_state == "pending_publish" and row.next_attempt_at is not None
    assert len(platform.reads) == 2  # one before the write, one after; no waiting in between
