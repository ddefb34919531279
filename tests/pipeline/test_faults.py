"""Faults against the fake platform: after each, one stored write per review, approved text,
and no approval lost."""
import dataclasses
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import APPROVER, load
from sqlalchemy import select

from plugin.actions import approve
from plugin.pipeline.claims import claim_for_posting
from plugin.pipeline.poster import finish, post_claimed, post_one
from plugin.pipeline.reaper import reap
from plugin.pipeline.worker import Worker
from plugin.posting import request_post
from plugin.store import states
from plugin.store.models import AuditRow, DraftRow, ReviewRow, utcnow
from tests.waiting import wait_for

RUN_WORKER = Path(__file__).resolve().parent / "run_worker.py"


def approved_text(database, review_id):
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        return session.get(DraftRow, row.current_draft_id).text


def run_until(worker, done, seconds=10.0):
    def finished() -> bool:
        if done():
            return True
        worker.tick()
        return False

    wait_for(finished, seconds, "the worker to finish")


def test_connection_dropped_after_the_platform_stored_the_reply(database, approved, platform,
                                                                connector, fast):
    review_id, external_id = approved()
    platform.drop_after_store.add(external_id)
    outcome = post_one(database, review_id, connector, APPROVER, settings=fast)
    row = load(database, review_id)
    assert outcome.status == row.status == states.POSTED and outcome.wrote
    assert platform.writes_for(external_id) == [approved_text(database, review_id)]
    assert platform.write_requests == [external_id]


def test_500_three_times_then_success(database, approved, platform, policy, resolve, fast):
    review_id, external_id = approved()
    platform.fail[external_id] = 3
    worker = Worker(database, policy, name="w1", resolve=resolve, settings=fast)
    run_until(worker, lambda: load(database, review_id).status == states.POSTED)
    row = load(database, review_id)
    assert platform.write_requests == [external_id] * 4
    assert platform.writes_for(external_id) == [approved_text(database, review_id)]
    assert row.attempts == 3 and row.last_error is None and row.approved_by == "alice"
    # Before every retry (outcome unknown) the platform was read: 1 pre-read + 1 read-back
    # per failed attempt, then the final pre-read and read-back.
    assert len(platform.reads) >= 2 * 3 + 2


def test_someone_else_replied_between_our_attempts(database, approved, platform, policy,
                                                   resolve, connector, fast):
    review_id, external_id = approved()
    platform.fail[external_id] = 1
    slow_retry = dataclasses.replace(fast, backoff_base=60.0, backoff_max=60.0)
    worker = Worker(database, policy, name="w1", resolve=resolve, settings=slow_retry)
    worker.tick()
    assert load(database, review_id).status == states.APPROVED
    platform.someone_else_replied(external_id, "Call us, we'll fix it. — the owner")
    with database.session() as session:
        session.get(ReviewRow, review_id).next_attempt_at = None
    run_until(worker, lambda: load(database, review_id).status == states.NEEDS_ATTENTION)
    row = load(database, review_id)
    assert platform.writes_for(external_id) == []
    assert platform.replies[external_id].text == "Call us, we'll fix it. — the owner"
    assert row.approved_text_hash and row.approved_by == "alice"
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        approve(session, row, policy, APPROVER, override_reason="ours is more complete")
        request_post(session, row, APPROVER, overwrite_reason="ours is more complete")
    post_one(database, review_id, connector, APPROVER, settings=fast)
    assert platform.writes_for(external_id) == [approved_text(database, review_id)]


@pytest.mark.slow
def test_worker_killed_between_platform_accept_and_commit(database, approved, platform,
                                                          database_url, tmp_path):
    reviews = [approved() for _ in range(3)]
    env = {**os.environ, "MAKERIGHT_FAILPOINT": "after_platform_accept"}
    # One post at a time, so exactly one write is in flight when the failpoint kills it.
    args = [sys.executable, str(RUN_WORKER), database_url, platform.base_url, "--once",
            "--lease", "0.5", "--quiet", "--concurrency", "1"]
    killed = subprocess.run(args + ["--name", "doomed"], env=env, timeout=60)
    assert killed.returncode == -9
    assert sum(platform.write_counts().values()) == 1
    (stuck,) = [rid for rid, _ in reviews if load(database, rid).status == states.POSTING]
    assert load(database, stuck).claimed_by == "doomed"
    wait_for(lambda: load(database, stuck).lease_until < utcnow(), 10,
             "the doomed worker's lease to run out")
    env.pop("MAKERIGHT_FAILPOINT")
    finished = subprocess.run(args + ["--name", "survivor"], env=env, timeout=60)
    assert finished.returncode == 0
    for review_id, external_id in reviews:
        row = load(database, review_id)
        assert row.status == states.POSTED and row.approved_by == "alice"
        assert platform.writes_for(external_id) == [approved_text(database, review_id)]
    with database.session() as session:
        reaped = session.scalars(select(AuditRow).where(
            AuditRow.review_id == stuck, AuditRow.action == "lease_expired")).all()
    assert len(reaped) == 1


def expire(database, review_id, worker="dead"):
    with database.session() as session:
        (claim,) = claim_for_posting(session, worker, lease=timedelta(seconds=-1))
    assert claim.review_id == review_id
    return claim


def test_reaper_our_text_there_means_posted(database, approved, platform, connector, resolve,
                                            fast):
    review_id, external_id = approved()
    claim = expire(database, review_id)
    connector.post_reply(claim.review, claim.text)
    assert reap(database, resolve, "reaper", fast) == 1
    assert load(database, review_id).status == states.POSTED
    assert platform.write_counts()[external_id] == 1


def test_reaper_nothing_there_means_approved_again(database, approved, platform, resolve, fast):
    review_id, _ = approved()
    expire(database, review_id)
    assert reap(database, resolve, "reaper", fast) == 1
    row = load(database, review_id)
    assert row.status == states.APPROVED and row.attempts == 1 and row.approved_by == "alice"
    assert platform.write_requests == []


def test_reaper_someone_elses_reply_needs_a_person(database, approved, platform, resolve, fast):
    review_id, external_id = approved()
    expire(database, review_id)
    platform.someone_else_replied(external_id, "Handled offline.")
    reap(database, resolve, "reaper", fast)
    assert load(database, review_id).status == states.NEEDS_ATTENTION
    assert platform.write_requests == []


def test_reaper_that_cannot_read_never_goes_back_to_approved(database, approved, fast):
    review_id, _ = approved()
    expire(database, review_id)

    def nowhere(review):
        raise LookupError("no connector configured")

    reap(database, nowhere, "reaper", fast)
    row = load(database, review_id)
    assert row.status == states.NEEDS_ATTENTION and "could not be read" in row.status_reason


def test_reaper_leaves_live_leases_alone(database, approved, resolve, fast):
    review_id, _ = approved()
    with database.session() as session:
        claim_for_posting(session, "alive", lease=timedelta(minutes=5))
    assert reap(database, resolve, "reaper", fast) == 0
    assert load(database, review_id).claimed_by == "alive"


def test_a_worker_whose_lease_was_taken_over_cannot_record(database, approved, platform,
                                                           connector, resolve, fast):
    review_id, external_id = approved()
    claim = expire(database, review_id, "slow")
    platform.someone_else_replied(external_id, "Someone's reply")
    reap(database, resolve, "reaper", fast)
    outcome = finish(database, claim, states.POSTED, "late", outcome="posted")
    assert outcome.status == "lost"
    assert load(database, review_id).status == states.NEEDS_ATTENTION
    assert post_claimed(database, claim, connector, fast).status in ("lost", states.NEEDS_ATTENTION)
    assert platform.write_requests == []


def test_too_many_transient_failures_end_in_failed(database, approved, platform, policy,
                                                   resolve, fast):
    review_id, external_id = approved()
    platform.fail[external_id] = 10
    worker = Worker(database, policy, name="w1", resolve=resolve,
                    settings=dataclasses.replace(fast, max_attempts=3))
    run_until(worker, lambda: load(database, review_id).status == states.FAILED)
    row = load(database, review_id)
    assert row.attempts == 3 and "Gave up after 3 attempts" in row.status_reason
    assert "platform error 500" in row.last_error and row.approved_by == "alice"
    assert platform.writes == [] and len(platform.write_requests) == 3


def test_backoff_is_jittered_grows_and_honours_retry_after(fast):
    settings = dataclasses.replace(fast, backoff_base=10.0, backoff_max=1000.0)
    waits = [settings.backoff(3).total_seconds() for _ in range(100)]
    assert len(set(waits)) > 50 and all(5.0 <= w <= 40.0 for w in waits)
    assert max(settings.backoff(1).total_seconds() for _ in range(50)) <= 10.0
    assert settings.backoff(1, retry_after=120).total_seconds() >= 120


def test_a_reply_that_disappears_after_posting_goes_back_to_a_person(
        database, approved, platform, connector, policy, fast):
    from plugin.pipeline.registry import StepContext
    from plugin.pipeline.steps import publication_step
    platform.publish_after_reads = 99
    platform.state = "pending_publish"
    review_id, external_id = approved()
    post_one(database, review_id, connector, APPROVER, settings=fast)
    assert load(database, review_id).post_state == "pending_publish"
    with platform.lock:
        del platform.replies[external_id]
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        row.next_attempt_at = row.posted_at
    publication_step(StepContext(db=database, policy=policy, worker="w", settings=fast,
                                 resolve=lambda review: connector))
    row = load(database, review_id)
    assert row.status == states.NEEDS_ATTENTION and row.post_state == "missing"
