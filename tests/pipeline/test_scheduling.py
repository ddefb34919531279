"""When posts happen: our own quota count defers without failing, requested posts go first
(and even while paused), unconfirmed writes are read again with backoff, and the lease and poll
interval are settings."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from click.testing import CliRunner
from conftest import APPROVER, load

from connectors.base import Connector, PostedReply
from connectors.errors import QuotaExhausted
from plugin.commands.main import cli
from plugin.pipeline.claims import claim_for_posting
from plugin.pipeline.config import PipelineSettings, SettingsError
from plugin.pipeline.control import set_paused
from plugin.pipeline.poster import post_one
from plugin.pipeline.reaper import reap
from plugin.pipeline.registry import StepContext
from plugin.pipeline.steps import publication_step
from plugin.pipeline.worker import Worker
from plugin.posting import request_post
from plugin.store import states
from plugin.store.models import ReviewRow, utcnow


class Quota(Connector):
    """A platform behind our own quota counter, which says no to reads or to writes."""

    platform = "google_play"

    def __init__(self, refuse: str):
        super().__init__({})
        self.refuse, self.posts = refuse, []

    def fetch(self, since=None):
        return iter(())

    def _deny(self, kind: str) -> None:
        if self.refuse == kind:
            raise QuotaExhausted(f"the {kind} quota is used up; the next {kind} is possible in "
                                 "60 min", retry_after=3600)

    def get_reply(self, review):
        self._deny("read")
        return None

    def post_reply(self, review, text):
        self._deny("reply")
        self.posts.append(text)
        return PostedReply(text)


@pytest.mark.parametrize("refuse", ["read", "reply"])
def test_our_quota_count_defers_and_never_fails_a_review(database, approved, policy, fast,
                                                         refuse):
    review_id, _ = approved()
    connector = Quota(refuse)
    settings = dataclasses.replace(fast, max_attempts=2)
    before = utcnow()
    for _ in range(5):  # more than max_attempts claims: none of them counts as a failure
        with database.session() as session:
            session.get(ReviewRow, review_id).next_attempt_at = None
        post_one(database, review_id, connector, APPROVER, settings=settings)
    row = load(database, review_id)
    assert row.status == states.APPROVED and row.attempts == 0 and row.last_error is None
    assert row.next_attempt_at >= before + timedelta(minutes=59)
    assert "Waiting for the platform quota" in row.status_reason and connector.posts == []


def test_the_reaper_waits_for_the_quota_instead_of_calling_a_person(database, approved, fast):
    review_id, _ = approved()
    with database.session() as session:
        claim_for_posting(session, "dead", lease=timedelta(seconds=-1))
    reap(database, lambda review: Quota("read"), "reaper", fast)
    row = load(database, review_id)
    assert row.status == states.APPROVED and row.attempts == 0
    assert row.next_attempt_at > utcnow() + timedelta(minutes=59)


def test_requested_posts_go_first_and_alone_while_paused(database, approved, platform, policy,
                                                         resolve, fast):
    backlog = [approved()[0] for _ in range(3)]
    wanted, _ = approved()
    with database.session() as session:
        request_post(session, session.get(ReviewRow, wanted), APPROVER)
    with database.session() as session:
        (first,) = claim_for_posting(session, "w1", lease=fast.lease)
    assert first.review_id == wanted
    with database.session() as session:
        row = session.get(ReviewRow, wanted)
        states.transition(session, row, states.APPROVED, actor="test", expected=states.POSTING)
        set_paused(session, True, "ops", "checking")
    Worker(database, policy, name="w1", resolve=resolve, settings=fast).run(once=True)
    assert load(database, wanted).status == states.POSTED
    assert {load(database, rid).status for rid in backlog} == {states.APPROVED}
    assert len(platform.writes) == 1


def test_an_unconfirmed_write_is_read_again_with_backoff_then_flagged(database, approved,
                                                                      connector, policy,
                                                                      platform, fast):
    class Invisible(Connector):
        """Accepts the write; reads show nothing yet (eventual consistency)."""

        platform = "google_business"

        def fetch(self, since=None):
            return iter(())

        def get_reply(self, review):
            return None

        def post_reply(self, review, text):
            return PostedReply(text)

    review_id, _ = approved()
    hidden = Invisible({})
    post_one(database, review_id, hidden, APPROVER, settings=fast)
    row = load(database, review_id)
    assert row.status == states.POSTED and row.post_state == "unconfirmed"
    settings = dataclasses.replace(fast, confirm_first_seconds=30, confirm_for_seconds=600)
    context = StepContext(db=database, policy=policy, worker="w", settings=settings,
                          resolve=lambda review: hidden)
    waits = []
    for minutes in (1, 5, 9):
        with database.session() as session:
            row = session.get(ReviewRow, review_id)
            row.posted_at = utcnow() - timedelta(minutes=minutes)
            row.next_attempt_at = utcnow()
        publication_step(context)
        row = load(database, review_id)
        assert row.status == states.POSTED
        waits.append((row.next_attempt_at - utcnow()).total_seconds())
    assert waits[0] < waits[1] < waits[2] and waits[0] >= 59
    with database.session() as session:
        row = session.get(ReviewRow, review_id)
        row.posted_at = utcnow() - timedelta(minutes=11)
        row.next_attempt_at = utcnow()
    publication_step(context)
    row = load(database, review_id)
    assert row.status == states.NEEDS_ATTENTION and row.post_state == "missing"


def test_lease_and_poll_interval_come_from_the_environment():
    settings = PipelineSettings.from_env({"MAKERIGHT_WORKER_LEASE_SECONDS": "900",
                                          "MAKERIGHT_WORKER_POLL_SECONDS": "0.5"})
    assert settings.lease_seconds == 900 and settings.idle_seconds == 0.5
    assert PipelineSettings.from_env({}) == PipelineSettings()
    for name, value, words in [("MAKERIGHT_WORKER_LEASE_SECONDS", "10", "shorter than"),
                               ("MAKERIGHT_WORKER_LEASE_SECONDS", "soon", "not a number"),
                               ("MAKERIGHT_WORKER_POLL_SECONDS", "nan", "not a number"),
                               ("MAKERIGHT_WORKER_POLL_SECONDS", "0", "outside")]:
        with pytest.raises(SettingsError, match=f"{name}: .*{words}"):
            PipelineSettings.from_env({name: value})


def test_worker_command_takes_the_lease_and_poll_interval(sqlite_url, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", sqlite_url)
    seen = {}
    monkeypatch.setattr("plugin.pipeline.worker.Worker.run",
                        lambda self, once=False: seen.update(settings=self.context.settings))
    runner = CliRunner()
    result = runner.invoke(cli, ["worker", "--once", "--lease-seconds", "120",
                                 "--poll-seconds", "5"])
    assert result.exit_code == 0, result.output
    assert seen["settings"].lease_seconds == 120 and seen["settings"].idle_seconds == 5
    monkeypatch.setenv("MAKERIGHT_WORKER_LEASE_SECONDS", "240")
    runner.invoke(cli, ["worker", "--once"])
    assert seen["settings"].lease_seconds == 240
    bad = runner.invoke(cli, ["worker", "--once", "--lease-seconds", "5"])
    assert bad.exit_code == 2 and "--lease-seconds" in bad.output and "shorter than" in bad.output
    monkeypatch.setenv("MAKERIGHT_WORKER_POLL_SECONDS", "-1")
    bad_env = runner.invoke(cli, ["worker", "--once"])
    assert bad_env.exit_code == 1 and "MAKERIGHT_WORKER_POLL_SECONDS" in bad_env.output
