"""One JSON answer for every refusal, however deep it was raised: the error shape, a code from
the contract's list, and the status the refusal means."""
from __future__ import annotations

import uuid

from flask import Flask

import plugin
from connectors.base import Review
from plugin.classify import classifier_for
from plugin.policy import load_policy
from plugin.starters import StarterError
from plugin.store.reviews import ingest
from tests.brands import SOURCE, break_policy, follow_copy

from .conftest import auth, review_json

API = "/api/v1/reviews"


def test_a_refusal_raised_deep_inside_answers_in_the_json_error_shape(client, db, make_token,
                                                                      tmp_path, policy_dir):
    review = Review.from_json(review_json(external_id=uuid.uuid4().hex, source=SOURCE))
    with db.session() as session:
        folder = follow_copy(session, tmp_path / "brand")
        row = ingest(session, review, classifier_for(load_policy(policy_dir)).classify(review))
        review_id = row.row.id
    break_policy(folder)
    response = client.post(f"{API}/{review_id}/drafts", json={},
                           headers={**auth(make_token("reviews:write")),
                                    "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 500
    assert response.is_json
    error = response.get_json()["error"]
    # The policy's own code is not one integrators branch on; the message says what to fix.
    assert error["code"] == "internal_error"
    assert error["message"].startswith("policy.toml:-: not valid TOML")
    assert set(error) == {"code", "message"}



def test_in_a_host_app_only_makerights_requests_are_answered(db_url, secret, policy_dir):
    """Mounted in another app, MakeRight answers the refusals raised under its own blueprints
    and leaves the host's own routes to the host."""
    host = Flask("host")
    host.config.update(SECRET_KEY="host-secret-" + "y" * 40)

    @host.get("/mine")
    def mine():
        raise StarterError("the host's own refusal")

    plugin.register(host, url_prefix="/reviews", config={
        "DATABASE_URL": db_url, "WEBHOOK_SECRETS": secret, "POLICY_DIR": policy_dir})
    client = host.test_client()
    answer = client.get("/mine")
    assert answer.status_code == 500
    assert b"the host's own refusal" not in answer.data
    refused = client.post("/reviews/webhooks/reviews", data=b"{}",
                          headers={"Content-Type": "application/json"})
    assert refused.is_json and refused.status_code == 401
