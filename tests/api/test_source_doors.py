"""Every door takes a review in on the terms of the source it names: classified with the policy
of that source's brand, and not answerable when the source is a read-only feed.

The brand here is a dental clinic whose policy sends an infected gum to a person, which the
default policy does not; the feed is the App Store's public reviews feed, which cannot take a
reply. The same three reviews go in through the signed webhook, the REST API and
`makeright import`, and must come out stored alike.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from connectors.base import Review
from plugin.classify import classifier_for
from plugin.commands.main import cli
from plugin.policy import load_policy
from plugin.sources.models import SourceRow
from plugin.store.models import ReviewRow

from .conftest import auth, encode, review_json, signed

CLINIC = "brightsmile-gbp"
FEED = "pocketledger-appstore-rss"

CLINIC_REVIEW = review_json(
    "gbp-7781", platform="google_business", source=CLINIC, rating=1, author="marco r.",
    language=None, text="had a filling done tuesday, now my gum is infected n swollen. "
                        "called 3 times nobody calls back")
FEED_REVIEW = review_json(
    "as-559102", platform="app_store", source=FEED, rating=2, author="Jess_K",
    language=None, text="Sync broke after the update, lost 3 weeks of expenses 😤")
PLAIN_REVIEW = review_json(
    "gp-ab12", platform="google_play", rating=1, author="Ravi", language=None,
    text="app khulte hi crash ho jata hai, bahut bekar")


@pytest.fixture
def clinic_policy(policy_dir, tmp_path) -> Path:
    """The bundled policy, but a clinic's: an infection after treatment is an injury."""
    folder = tmp_path / "brightsmile"
    shutil.copytree(policy_dir, folder)
    lexicon = folder / "lexicons" / "escalation.toml"
    text = lexicon.read_text("utf-8")
    assert '[injury]\nen = ["food poisoning",' in text
    lexicon.write_text(text.replace('[injury]\nen = ["food poisoning",',
                                    '[injury]\nen = ["infected", "abscess", "food poisoning",'),
                       "utf-8")
    return folder


@pytest.fixture
def sources(db, clinic_policy, policy_dir):
    with db.session() as session:
        session.add(SourceRow(name=CLINIC, kind="demo", settings={},
                              policy=str(clinic_policy.resolve())))
        session.add(SourceRow(name=FEED, kind="app_store_feed",
                              settings={"app_id": "1459370123", "countries": ["us"]}))
    default = classifier_for(load_policy(policy_dir)).classify(Review.from_json(CLINIC_REVIEW))
    # What the door used to store: the default policy sees no injury here.
    assert not default.escalate


def stored(db) -> dict[str, ReviewRow]:
    with db.session() as session:
        rows = session.scalars(select(ReviewRow)).all()
        session.expunge_all()
    return {row.external_id: row for row in rows}


def assert_on_source_terms(rows: dict[str, ReviewRow]) -> None:
    clinic, feed, plain = rows["gbp-7781"], rows["as-559102"], rows["gp-ab12"]
    assert clinic.escalated and clinic.escalation_reasons == ["injury"]
    assert clinic.answerable
    assert not feed.answerable
    assert "crash" in plain.categories and plain.language == "hi"
    assert plain.answerable and not plain.escalated


def test_the_webhook_takes_each_review_on_its_source_s_terms(client, db, secret, sources):
    body = encode({"reviews": [CLINIC_REVIEW, FEED_REVIEW, PLAIN_REVIEW]})
    response = client.post("/webhooks/reviews", data=body, headers=signed(secret, body))
    assert response.status_code == 202, response.get_json()
    assert [r["external_id"] for r in response.get_json()["reviews"]] == \
        ["gbp-7781", "as-559102", "gp-ab12"]
    assert_on_source_terms(stored(db))


def test_the_rest_api_takes_each_review_on_its_source_s_terms(client, db, make_token, sources):
    token = make_token("reviews:write")
    for number, review in enumerate((CLINIC_REVIEW, FEED_REVIEW, PLAIN_REVIEW)):
        response = client.post("/api/v1/reviews", data=encode(review),
                               headers={**auth(token), "Idempotency-Key": f"k-{number}",
                                        "Content-Type": "application/json"})
        assert response.status_code == 201, response.get_json()
    assert_on_source_terms(stored(db))


def test_an_import_takes_each_review_on_its_source_s_terms(db, db_url, sources, tmp_path,
                                                           policy_dir):
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                            for r in (CLINIC_REVIEW, FEED_REVIEW, PLAIN_REVIEW)), "utf-8")
    result = CliRunner().invoke(cli, ["import", "--draft", str(path)],
                                env={"MAKERIGHT_DATABASE_URL": db_url,
                                     "MAKERIGHT_POLICY_DIR": policy_dir})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "3 new, 0 updated, 0 unchanged, 0 rejected, 3 drafted"
    rows = stored(db)
    assert_on_source_terms(rows)
    # Drafted with the clinic's policy too: a holding reply, no offer.
    assert rows["gbp-7781"].status == "needs_attention"


def test_a_review_edited_later_keeps_the_answerability_it_arrived_with(client, db, secret,
                                                                      sources):
    body = encode(FEED_REVIEW)
    assert client.post("/webhooks/reviews", data=body,
                       headers=signed(secret, body)).status_code == 202
    edited = encode(dict(FEED_REVIEW, source="", rating=1,
                         text="Still broken. Support never answered. Deleting."))
    assert client.post("/webhooks/reviews", data=edited,
                       headers=signed(secret, edited)).status_code == 202
    row = stored(db)["as-559102"]
    assert row.text.startswith("Still broken") and not row.answerable
