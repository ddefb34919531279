"""Drafting with claims, auto-approval rules, the kill switch and follow-ups, on both engines."""
import dataclasses
from datetime import timedelta

import pytest
from conftest import APPROVER, load, store_review

from plugin.actions import approve, regenerate
from plugin.classify import classifier_for
from plugin.pipeline.autoapprove import auto_approve
from plugin.pipeline.claims import AUTO_APPROVER, claim_for_posting, claim_new
from plugin.pipeline.control import is_paused, set_paused
from plugin.pipeline.poster import post_one
from plugin.pipeline.registry import StepContext
from plugin.pipeline.steps import draft_step, post_step
from plugin.pipeline.worker import Worker
from plugin.store import states
from plugin.store.models import ReviewRow, utcnow
from plugin.store.reviews import ingest

PRAISE = "Great coffee and friendly people."


def auto_policy(policy, **overrides):
    rules = {"enabled": True, "min_rating": 5, "daily_cap": 50, "delay_minutes": 30,
             **overrides}
    return dataclasses.replace(policy, auto_approve=rules)


def context(database, policy, fast, resolve=None, **kwargs):
    return StepContext(db=database, policy=policy, worker=kwargs.pop("worker", "w1"),
                       settings=fast, resolve=resolve or (lambda review: None), **kwargs)


# -- drafting ---------------------------------------------------------------------------------

def test_two_workers_never_claim_the_same_new_review(database, policy, make_review, fast):
    ids = {store_review(database, policy, make_review(), draft=False) for _ in range(4)}
    with database.session() as session:
        first = claim_new(session, "w1", lease=fast.draft_lease, limit=3)
    with database.session() as session:
        second = claim_new(session, "w2", lease=fast.draft_lease, limit=3)
    assert len(first) == 3 and len(second) == 1
    assert {c.review_id for c in first} | {c.review_id for c in second} == ids
    assert not {c.review_id for c in first} & {c.review_id for c in second}


def test_an_expired_drafting_lease_is_taken_over(database, policy, make_review):
    store_review(database, policy, make_review(), draft=False)
    with database.session() as session:
        claim_new(session, "dead", lease=timedelta(seconds=-1), limit=5)
    with database.session() as session:
        assert len(claim_new(session, "w2", lease=timedelta(minutes=1), limit=5)) == 1


def test_draft_step_drafts_new_reviews(database, policy, make_review, fast):
    calm = store_review(database, policy, make_review(), draft=False)
    angry = store_review(database, policy, make_review(text="I will sue you, my lawyer is "
                                                            "calling tomorrow."), draft=False)
    assert draft_step(context(database, policy, fast)) == 2
    row = load(database, calm)
    assert row.status == states.DRAFTED and row.current_draft_id
    assert row.claimed_by is None and row.lease_until is None
    assert load(database, angry).status == states.NEEDS_ATTENTION


def test_a_failing_drafter_marks_draft_failed(database, policy, make_review, fast):
    review_id = store_review(database, policy, make_review(), draft=False)

    class Broken:
        name = "broken"

        def draft(self, *args, **kwargs):
            raise RuntimeError("model unavailable")

    draft_step(context(database, policy, fast, drafter=Broken()))
    row = load(database, review_id)
    assert row.status == states.DRAFT_FAILED and "model unavailable" in row.status_reason


def test_a_review_edited_while_drafting_is_drafted_from_the_new_words(database, policy,
                                                                      make_review, fast):
    review = make_review()
    review_id = store_review(database, policy, review, draft=False)
    with database.session() as session:
        (claim,) = claim_new(session, "w1", lease=fast.draft_lease, limit=1)
    edited = dataclasses.replace(review, text="Actually the cake was fine, only late.")
    with database.session() as session:
        ingest(session, edited, classifier_for(policy).classify(edited))
    from plugin.pipeline.claims import finish_draft_claims
    with database.session() as session:
        assert finish_draft_claims(session, [claim]) == {}
    row = load(database, review_id)
    assert row.status == states.NEW and row.claimed_by is None


# -- auto-approval ----------------------------------------------------------------------------

def test_auto_approval_is_off_by_default(database, policy, make_review):
    review_id = store_review(database, policy, make_review(rating=5, text=PRAISE))
    assert policy.auto_approve["enabled"] is False
    assert auto_approve(database, policy) == 0
    assert load(database, review_id).status == states.DRAFTED


def test_clean_five_star_is_approved_with_a_delay(database, policy, make_review, fast):
    review_id = store_review(database, policy, make_review(rating=5, text=PRAISE))
    assert auto_approve(database, auto_policy(policy)) == 1
    row = load(database, review_id)
    assert row.status == states.APPROVED and row.approved_by == AUTO_APPROVER
    assert row.next_attempt_at >= utcnow() + timedelta(minutes=29)
    with database.session() as session:
        assert claim_for_posting(session, "w1", lease=fast.lease) == []


@pytest.mark.parametrize("rating", [1, 2, 3])
def test_one_to_three_stars_always_wait_for_a_person(database, policy, make_review, rating):
    review_id = store_review(database, policy, make_review(rating=rating, text=PRAISE))
    assert auto_approve(database, auto_policy(policy, min_rating=1)) == 0
    assert load(database, review_id).status != states.APPROVED


@pytest.mark.parametrize("concern", ["escalated", "has_offer", "violation_count",
                                     "follow_up", "categories"])
def test_concerns_always_wait_for_a_person(database, policy, make_review, concern):
    review_id = store_review(database, policy, make_review(rating=5, text=PRAISE))
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        value = {"escalated": True, "has_offer": True, "violation_count": 1,
                 "follow_up": True, "categories": ["staff"]}[concern]
        setattr(row, concern, value)
    assert auto_approve(database, auto_policy(policy)) == 0
    assert load(database, review_id).status == states.DRAFTED


def test_daily_cap_and_kill_switch(database, policy, make_review):
    ids = [store_review(database, policy, make_review(rating=5, text=PRAISE)) for _ in range(3)]
    rules = auto_policy(policy, daily_cap=2)
    with database.session() as session:
        set_paused(session, True, "ops", "incident")
    assert auto_approve(database, rules) == 0
    with database.session() as session:
        assert is_paused(session)
        set_paused(session, False, "ops")
    assert auto_approve(database, rules) == 2
    assert auto_approve(database, rules) == 0
    assert sorted(load(database, i).status for i in ids) == \
        [states.APPROVED, states.APPROVED, states.DRAFTED]


def test_paused_workers_post_nothing(database, approved, platform, policy, resolve, fast):
    review_id, _ = approved()
    with database.session() as session:
        set_paused(session, True, "ops")
    assert post_step(context(database, policy, fast, resolve)) == 0
    assert platform.reads == [] and load(database, review_id).status == states.APPROVED
    with database.session() as session:
        set_paused(session, False, "ops")
    assert post_step(context(database, policy, fast, resolve)) == 1
    assert load(database, review_id).status == states.POSTED


def test_end_to_end_only_clean_five_stars_post_without_a_person(database, policy, make_review,
                                                                platform, resolve, fast):
    rules = auto_policy(policy, delay_minutes=0, min_rating=1)
    praise = [store_review(database, policy, make_review(rating=5, text=PRAISE), draft=False)
              for _ in range(2)]
    others = [store_review(database, policy, make_review(rating=r), draft=False)
              for r in (1, 2, 3)]
    others.append(store_review(database, policy, make_review(
        rating=5, text="Lovely staff but I got food poisoning and will call my lawyer."),
        draft=False))
    Worker(database, rules, name="w1", resolve=resolve, settings=fast).run(once=True)
    assert all(load(database, i).status == states.POSTED for i in praise)
    assert all(load(database, i).status in (states.DRAFTED, states.NEEDS_ATTENTION)
               for i in others)
    assert sum(platform.write_counts().values()) == 2


# -- follow-ups -------------------------------------------------------------------------------

def test_edit_after_our_reply_is_a_follow_up_we_may_overwrite(database, policy, make_review,
                                                              approved, platform, connector,
                                                              fast):
    review_id, external_id = approved(rating=2)
    post_one(database, review_id, connector, APPROVER, settings=fast)
    edited = make_review(external_id=external_id, rating=1,
                         text="Still waiting for the refund you promised.")
    with database.session() as session:
        ingest(session, edited, classifier_for(policy).classify(edited))
    row = load(database, review_id)
    assert row.status == states.NEEDS_ATTENTION and row.follow_up
    assert auto_approve(database, auto_policy(policy, min_rating=1)) == 0
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        regenerate(session, row, policy, APPROVER)
        approve(session, row, policy, APPROVER, override_reason="follow-up checked")
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    assert outcome.status == states.POSTED and outcome.wrote
    assert len(platform.writes_for(external_id)) == 2
    assert not load(database, review_id).follow_up
