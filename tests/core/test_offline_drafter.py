"""The offline drafter on the realistic corpus in tests/data/reviews.jsonl.

Each corpus line carries `metadata.expect` (language, escalate, categories) written by hand.
"""
import json
from pathlib import Path

import pytest

from connectors.base import Review, reply_length
from plugin.classify import classifier_for
from plugin.drafting import draft_review
from plugin.similarity import near_duplicates

DATA = Path(__file__).resolve().parent.parent / "data"


def corpus(name: str) -> list[Review]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [Review.from_json(json.loads(line)) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def drafted(policy):
    return [(review, draft_review(review, policy)) for review in corpus("reviews.jsonl")]


def test_corpus_is_broad_enough(drafted):
    reviews = [r for r, _ in drafted]
    assert len(reviews) >= 60
    assert {r.platform for r in reviews} >= {"google_business", "google_play", "app_store"}
    assert {r.rating for r in reviews} == {1, 2, 3, 4, 5}
    languages = {r.metadata["expect"]["language"] for r in reviews} - {None}
    assert len(languages) >= 6
    assert sum(r.metadata["expect"]["escalate"] for r in reviews) >= 10


def test_every_draft_is_clean_and_fits(drafted):
    for review, draft in drafted:
        assert draft.violations == [], (review.external_id, draft.violations, draft.text)
        used, limit, _ = reply_length(draft.text, review.platform)
        assert used <= limit, review.external_id


def test_escalates_exactly_the_escalation_cases(drafted):
    wrong = [(r.external_id, d.escalation_reasons) for r, d in drafted
             if d.escalate != r.metadata["expect"]["escalate"]]
    assert wrong == []
    assert all(d.offer is None for _, d in drafted if d.escalate)


def test_answers_in_the_reviews_language_where_a_template_exists(policy, drafted):
    for review, draft in drafted:
        expected = review.metadata["expect"]["language"]
        assert draft.review_language == expected or expected is None, review.external_id
        if expected in policy.templates:
            assert draft.language == expected, review.external_id
        elif expected:
            assert draft.language == policy.default_language
            assert "no template" in draft.note


def test_detects_the_expected_categories(drafted):
    for review, draft in drafted:
        missing = set(review.metadata["expect"].get("categories", [])) - set(draft.categories)
        assert not missing, (review.external_id, missing, draft.categories)


def test_greets_by_name_and_thanks_praise(drafted):
    for review, draft in drafted:
        if review.first_name:
            assert review.first_name in draft.text, review.external_id
        if review.rating >= 4 and not draft.escalate:
            assert draft.offer is None


def test_no_near_duplicates_among_similar_reviews(drafted):
    texts = [d.text for _, d in drafted]
    assert near_duplicates(texts) == []


def test_similar_reviews_get_varied_replies(policy):
    names = ["Jane", "Tom", "Ana", "Luis", "Kim", "", "Olga", "Sam", "Priya", "Max"]
    texts = []
    for i in range(200):
        review = Review.from_json({"platform": "google_business", "external_id": f"x{i}",
                                   "author": names[i % 10], "rating": 1 + i % 2,
                                   "text": "My delivery arrived very late and cold.",
                                   "created_at": "2026-11-01T10:00:00Z"})
        texts.append(draft_review(review, policy).text)
    assert len(set(texts)) >= 190
    # Measured at 2 of 19,900 pairs; more than 20 means variation has collapsed.
    assert len(near_duplicates(texts)) <= 20


def test_deterministic(policy, drafted):
    review, first = drafted[0]
    assert draft_review(review, policy).text == first.text


def test_injection_corpus_drafts_stay_in_policy(policy):
    for review in corpus("injection.jsonl"):
        draft = draft_review(review, policy)
        assert draft.violations == [], (review.external_id, draft.violations)
        allowed = policy.allowed_offers(review.rating, draft.categories, draft.escalate)
        assert draft.offer is None or draft.offer in allowed


def test_falls_back_to_english_with_a_note(policy):
    review = Review.from_json({"platform": "google_business", "external_id": "pl1", "rating": 2,
                               "text": "Dostawa była bardzo spóźniona, a jedzenie zimne.",
                               "created_at": "2026-11-01T10:00:00Z"})
    classification = classifier_for(policy).classify(review)
    assert classification.language == "pl"
    draft = draft_review(review, policy)
    assert draft.language == "en"
    assert draft.note == "Polish review, answered in English: no Polish templates."
    assert draft.violations == []


def test_compact_platform_fits_with_offer(policy):
    review = Review.from_json({"platform": "google_play", "external_id": "c1", "rating": 1,
                               "author": "Maximiliano Alessandro",
                               "text": "The app crashes at login, the ads are everywhere and "
                                       "it is slow.", "created_at": "2026-11-01T10:00:00Z"})
    draft = draft_review(review, policy)
    assert draft.offer is not None and draft.violations == []
    assert len(draft.text) <= 350


def test_self_harm_gets_a_pointer_to_urgent_help(policy):
    review = Review.from_json({"platform": "google_business", "external_id": "sh1", "rating": 1,
                               "text": "Nothing works anymore, I want to end my life.",
                               "created_at": "2026-11-01T10:00:00Z"})
    draft = draft_review(review, policy)
    assert draft.escalation_reasons == ["self_harm"] and draft.offer is None
    assert "crisis helpline" in draft.text and draft.violations == []


def test_rating_only_review_does_not_pretend_text_was_written(policy):
    review = Review.from_json({"platform": "google_business", "external_id": "ro1", "rating": 1,
                               "text": "", "created_at": "2026-11-01T10:00:00Z"})
    draft = draft_review(review, policy)
    assert "rating" in draft.text and "sorry about" not in draft.text.lower()
    assert draft.offer is None and draft.violations == []
