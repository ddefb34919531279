"""Writes whose outcome is unknown, through the real connectors and their one request path,
against a loopback platform that stores a reply and then loses the answer.

(a) the platform stores our reply and answers 503; (b) it stores it and answers after the
client gave up (a timeout); (c) it stores it, someone else replies over it, and it answers 503.
In every case our reply is written exactly once, nothing is ever written over someone else's
reply, and the review ends where the platform says it should: posted in (a) and (b), with a
person in (c).
"""
from __future__ import annotations

import pytest
from conftest import APPROVER, load

from connectors.app_store import AppStoreConnector
from connectors.google_business import GoogleBusinessConnector
from connectors.google_play import GooglePlayConnector
from connectors.http import RetryPolicy
from plugin.actions import approve
from plugin.pipeline.worker import Worker
from plugin.store import states
from plugin.store.models import DraftRow, ReviewRow
from tests.connectors.support import ec_pem, service_account_info
from tests.sources.conftest import REFRESH_TOKEN, fake  # noqa: F401  (the platforms fixture)
from tests.sources.fake_platforms import FakePlatforms
from tests.waiting import wait_for

THEIRS = "We have refunded you in the shop today. — Sam, the owner"
#: Connect, read: the read timeout is what case (b) runs into.
TIMEOUT = (2.0, 0.5)


def connector_for(platform: str, fake: FakePlatforms):
    """A real connector of `platform` pointed at the fake, with in-process waits switched off."""
    options = {"sleep": lambda seconds: None, "retry": RetryPolicy(max_attempts=2),
               "timeout": TIMEOUT}
    if platform == "google_business":
        return GoogleBusinessConnector({
            "client_id": "client-1.apps.googleusercontent.com", "client_secret": "GOCSPX-x",
            "refresh_token": REFRESH_TOKEN, "locations": [fake.gbp_location],
            "base_url": fake.base_url, "token_url": f"{fake.base_url}/token"}, **options)
    if platform == "google_play":
        return GooglePlayConnector({
            "package_name": fake.package, "service_account_json": service_account_info(),
            "base_url": fake.base_url, "token_url": f"{fake.base_url}/token"}, **options)
    return AppStoreConnector({"app_id": fake.app_id, "key_id": "2X9R4HXF34",
                              "issuer_id": "69a6de70-03db-47e3-e053-5b8c7c11a4d1",
                              "private_key": ec_pem(), "base_url": fake.base_url}, **options)


def approved_review(database, policy, make_review, platform: str, external_id: str) -> int:
    from conftest import store_review
    review = make_review(platform=platform, external_id=external_id, source="fake",
                         text="Late and the box was crushed.")
    review_id = store_review(database, policy, review)
    with database.session() as session:
        approve(session, session.get(ReviewRow, review_id), policy, APPROVER,
                override_reason="checked by the test")
    return review_id


def run_until_settled(database, worker, review_id, seconds=20.0) -> ReviewRow:
    def settled() -> ReviewRow | None:
        worker.tick()
        row = load(database, review_id)
        return row if row.status not in (states.APPROVED, states.POSTING) else None

    return wait_for(settled, seconds, f"review {review_id} to leave approved/posting",
                    step=0.02)


@pytest.mark.parametrize("platform", ["google_business", "google_play", "app_store"])
@pytest.mark.parametrize("case", ["a_saved_then_503", "b_saved_then_timeout",
                                  "c_third_party_in_between"])
def test_a_write_with_a_lost_answer_is_read_back_never_repeated(database, policy, make_review,
                                                                fast, fake, platform, case):
    (target,) = fake.seed(platform, 1)
    review_id = approved_review(database, policy, make_review, platform, target.id)
    fake.after_store[target.id] = "timeout" if case.startswith("b") else "503"
    if case.startswith("c"):
        fake.then_reply[target.id] = THEIRS
    connector = connector_for(platform, fake)
    worker = Worker(database, policy, name="w1", resolve=lambda review: connector,
                    settings=fast)

    row = run_until_settled(database, worker, review_id)

    with database.session() as session:
        ours = session.get(DraftRow, row.current_draft_id).text
    assert fake.writes == [(target.id, ours)], "exactly one write of ours reached the platform"
    if case.startswith("c"):
        assert row.status == states.NEEDS_ATTENTION
        assert fake.replies[target.id] == THEIRS and target.reply == THEIRS  # not overwritten
        assert row.platform_reply == THEIRS and "Someone else has replied" in row.status_reason
    else:
        assert row.status == states.POSTED and row.platform_reply == ours
        assert target.reply == ours
    # Nothing was written after the lost answer: the only write request is the first one.
    writes = [path for method, path in fake.requests
              if method in ("POST", "PUT") and path.split("?")[0] != "/token"]
    assert len(writes) == 1, writes
