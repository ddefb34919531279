"""Fixtures for the pipeline: a fake platform on loopback, fast timings, approved reviews."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_platform import FakeConnector, FakePlatform  # noqa: E402

from connectors.base import Review  # noqa: E402
from plugin.actions import Actor, approve  # noqa: E402
from plugin.classify import classifier_for  # noqa: E402
from plugin.drafting import draft_review  # noqa: E402
from plugin.pipeline.config import PipelineSettings  # noqa: E402
from plugin.store.models import ReviewRow  # noqa: E402
from plugin.store.reviews import ingest, save_draft, to_review  # noqa: E402

APPROVER = Actor("alice", "approver")
FAST = PipelineSettings(lease_seconds=0.4, draft_lease_seconds=0.4, backoff_base=0.01,
                        backoff_max=0.04, confirm_first_seconds=0.01,
                        publication_check_seconds=0.01, idle_seconds=0.01)


@pytest.fixture
def fast() -> PipelineSettings:
    return FAST


@pytest.fixture
def platform():
    server = FakePlatform().start()
    yield server
    server.stop()


@pytest.fixture
def connector(platform) -> FakeConnector:
    return FakeConnector({"base_url": platform.base_url})


@pytest.fixture
def resolve(connector):
    return lambda review: connector


def store_review(database, policy, review, *, draft: bool = True) -> int:
    with database.session() as session:
        row = ingest(session, review, classifier_for(policy).classify(review)).row
        if draft:
            save_draft(session, row, draft_review(to_review(row), policy))
        return row.id


@pytest.fixture
def make_review(make_review):
    """Reviews at a location of their own unless one is given: these tests post many
    near-identical replies, which at one Google location are held as REPETITIVE."""

    def make(**fields) -> Review:
        fields.setdefault("source", f"accounts/7/locations/{uuid.uuid4().hex[:12]}")
        return make_review(**fields)

    return make


@pytest.fixture
def approved(database, policy, make_review):
    """Store, draft and approve a review (as an approver would); returns (id, external_id)."""

    def make(**fields) -> tuple[int, str]:
        review = make_review(**fields)
        review_id = store_review(database, policy, review)
        with database.session() as session:
            approve(session, session.get(ReviewRow, review_id), policy, APPROVER,
                    override_reason="checked by the test")
        return review_id, review.external_id

    return make


def load(database, review_id: int) -> ReviewRow:
    with database.session() as session:
        return session.get(ReviewRow, review_id)
