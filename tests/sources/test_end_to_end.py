"""Each platform from `source add` to a reply held by the (fake) platform.

The post step goes the way a worker goes: the connector found by source name, then the poster.
"""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from plugin.actions import Actor, approve
from plugin.commands.main import cli
from plugin.drafting import draft_review
from plugin.pipeline.poster import post_one
from plugin.runtime import connector_resolver
from plugin.store import states
from plugin.store.models import ReviewRow
from plugin.store.reviews import current_draft, save_draft, to_review
from tests.connectors.support import ec_pem, rsa_pem

from .conftest import CLIENT_SECRET, NAMES, REFRESH_TOKEN, add_args
from .fake_platforms import ACCESS_TOKEN

APPROVER = Actor("ann", "approver")
LISTING = {"google_business": "/reviews?", "google_play": "/reviews?",
           "app_store": "/customerReviews?"}


@pytest.mark.parametrize("platform", ["google_business", "google_play", "app_store"])
def test_add_sync_draft_approve_post(platform, instance, fake, runner, policy, tmp_path,
                                     monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    seeded = fake.seed(platform, 5)
    name = NAMES[platform]

    added = runner.invoke(cli, add_args(platform, fake, tmp_path, monkeypatch))
    assert added.exit_code == 0, added.output
    tested = runner.invoke(cli, ["source", "test", name])
    assert tested.exit_code == 0, tested.output
    assert tested.stdout.startswith(f"{name}: OK")

    synced = runner.invoke(cli, ["sync", name])
    assert synced.exit_code == 0, synced.output
    assert synced.stdout.strip() == f"{name}: 5 new, 0 updated, 0 unchanged"
    # One listing call for `source test`, then three pages of two for five reviews.
    assert fake.count("GET", LISTING[platform]) == 4

    db = instance.database()
    with db.session() as session:
        rows = session.scalars(select(ReviewRow).order_by(ReviewRow.review_created_at.desc())).all()
        assert [row.external_id for row in rows] == [review.id for review in seeded]
        assert {row.source for row in rows} == {name}
        assert all(row.answerable and row.platform == platform for row in rows)
        assert [row.platform_reply for row in rows] == [review.reply for review in seeded]

        row = rows[0]
        save_draft(session, row, draft_review(to_review(row), policy))
        reason = "reviewed in the end-to-end test" if row.status == states.NEEDS_ATTENTION \
            else None
        approve(session, row, policy, APPROVER, override_reason=reason)
        assert row.status == states.APPROVED
        text = current_draft(session, row).text
        review_id, review = row.id, to_review(row)
    # The worker's path: the connector found by the source's name, then the poster.
    outcome = post_one(db, review_id, connector_resolver(db)(review), APPROVER)
    db.dispose()

    assert (outcome.status, outcome.wrote) == (states.POSTED, True), outcome.reason
    assert fake.replies == {seeded[0].id: text}
    again = runner.invoke(cli, ["sync", name])
    assert again.stdout.strip() == f"{name}: 0 new, 0 updated, 0 unchanged"
    for secret in (REFRESH_TOKEN, CLIENT_SECRET, ACCESS_TOKEN, "PRIVATE KEY",
                   rsa_pem().splitlines()[1], ec_pem().splitlines()[1]):
        assert secret not in caplog.text
        for result in (added, tested, synced, again):
            assert secret not in result.output


def test_google_pubsub_push_fetches_through_the_configured_source(instance, fake, runner,
                                                                  policy, tmp_path,
                                                                  monkeypatch):
    import base64
    import json

    from plugin import create_app
    from tests.constants import TEST_SECRET

    seeded = fake.seed("google_business", 1)
    added = runner.invoke(cli, add_args("google_business", fake, tmp_path, monkeypatch))
    assert added.exit_code == 0, added.output
    app = create_app({"DATABASE_URL": instance.url, "SECRET_KEY": TEST_SECRET,
                      "GOOGLE_PUBSUB_TOKEN": "push-token", "TESTING": True})
    data = base64.b64encode(json.dumps({"notificationType": "NEW_REVIEW",
                                        "reviewName": seeded[0].id}).encode()).decode()
    response = app.test_client().post("/webhooks/google/pubsub?token=push-token",
                                      json={"message": {"data": data, "messageId": "1"}})
    assert response.status_code == 200, response.get_json()
    with instance.database().session() as session:
        row = session.scalar(select(ReviewRow))
        assert (row.external_id, row.source) == (seeded[0].id, NAMES["google_business"])
