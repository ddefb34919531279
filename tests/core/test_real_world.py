"""Drafts on the real-world corpus (tests/data/realworld_*.jsonl), scored by `makeright eval`.

The corpus is written to look like what platforms deliver: two-word reviews, Hinglish and Roman
Urdu, ALL-CAPS, emoji, Indonesian attraction reviews, indirect escalations and hyperbole that
is not one. The thresholds are the quality bar for the offline drafter; they are checked on
text a customer would read, never on exact wording.
"""
import json
from pathlib import Path

import pytest

from connectors.base import Review
from plugin.drafting import draft_review
from plugin.drafting.offline import OfflineDrafter
from plugin.evaluation import duplicate_share, evaluate
from plugin.quality import apologises, foreign_words, names_problem

DATA = Path(__file__).resolve().parent.parent / "data"


def corpus(name: str) -> list[Review]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [Review.from_json(json.loads(line)) for line in lines if line.strip()]


def test_corpus_is_broad_and_labelled():
    reviews = corpus("realworld_dev.jsonl") + corpus("realworld_heldout.jsonl")
    assert len(reviews) >= 400
    expects = [r.metadata["expect"] for r in reviews]
    languages = {e["language"] if isinstance(e["language"], str) else e["language"][0]
                 for e in expects}
    assert {"en", "es", "de", "fr", "pt", "it", "nl", "id", "tr", "ja", "ar", "hi",
            "ur"} <= languages
    reasons = {reason for e in expects for reason in e["reasons"]}
    assert reasons == {"legal", "injury", "discrimination", "security", "self_harm",
                       "harassment", "sexual", "scam"}
    assert sum(e["near_miss"] for e in expects) >= 15
    assert sum(e["praise_only"] for e in expects) >= 40
    assert sum(e["code_mixed"] for e in expects) >= 15
    assert sum(len(r.text) <= 12 for r in reviews) >= 25


def test_dev_part_meets_the_quality_bar(policy):
    result = evaluate(corpus("realworld_dev.jsonl"), policy, OfflineDrafter())
    q = result.quality
    assert q.language_rate >= 0.98, q.wrong_language
    assert q.escalation_recall == 1.0, q.missed_escalations
    assert q.escalation_precision >= 0.95, q.false_escalations
    assert q.problem_rate >= 0.85, q.unnamed_problems
    assert q.apologies_to_praise == []
    assert q.mixed_language == []
    assert result.with_violations == 0, result.violations
    assert duplicate_share(result) < 0.02, result.near_duplicates


def test_held_out_part_is_scored_the_same_way(policy):
    """The held-out part is never tuned on; its figures are reported, and only the checks
    that must hold for any text are asserted here."""
    result = evaluate(corpus("realworld_heldout.jsonl"), policy, OfflineDrafter())
    assert result.quality.labelled == len(corpus("realworld_heldout.jsonl"))
    assert result.quality.apologies_to_praise == []
    assert result.quality.mixed_language == []
    assert result.with_violations == 0


def test_low_rating_with_only_praise_is_thanked_not_apologised_to(policy, make_review):
    draft = draft_review(make_review(platform="google_play", rating=2, text="Nice app"), policy)
    assert not apologises(policy, draft.text, "en")
    assert "five stars" in draft.text and not draft.escalate


def test_mixed_review_acknowledges_the_praise_then_the_problem(policy, make_review):
    plain = draft_review(make_review(rating=2, text="The toilets were filthy."), policy)
    mixed = draft_review(make_review(rating=2, text="Lovely staff but the toilets were filthy."),
                         policy)
    assert names_problem(policy, mixed.text, "en", ["toilets"])
    assert names_problem(policy, plain.text, "en", ["toilets"])
    assert any(phrase in mixed.text for phrase in policy.templates["en"].lists["liked"])
    assert not any(phrase in plain.text for phrase in policy.templates["en"].lists["liked"])
    assert apologises(policy, mixed.text, "en")


def test_untemplated_language_is_answered_in_the_default_and_said(policy, make_review):
    draft = draft_review(make_review(text="Aplikacja ciągle się zawiesza, dramat i tyle."),
                         policy)
    assert draft.language == "en"
    assert draft.note == "Polish review, answered in English: no Polish templates."
    hinglish = draft_review(make_review(text="yaar ye app bahut bekar hai, paise wapas karo"),
                            policy)
    assert hinglish.language == "en" and "Hinglish" in hinglish.note


def test_a_language_outside_the_policys_list_is_not_answered_in(policy, make_review):
    from dataclasses import replace

    narrow = replace(policy, languages=("en", "es"),
                     brand={**policy.brand, "languages": ["en", "es"]})
    draft = draft_review(make_review(text="Sipariş iki saat geç geldi ve yemek soğuktu."), narrow)
    assert draft.language == "en"
    assert "Turkish is not among the policy's languages" in draft.note


def test_offer_without_wording_in_the_language_uses_its_generic_phrase(policy, make_review):
    from dataclasses import replace

    offers = [replace(o, gives={k: v for k, v in o.gives.items() if k != "de"})
              for o in policy.offers]
    bare = replace(policy, offers=offers)
    draft = draft_review(make_review(rating=1, text="Die Lieferung kam zwei Stunden zu spät "
                                                    "und der Kuchen war zerdrückt."), bare)
    assert draft.language == "de" and draft.offer is not None
    assert foreign_words(bare, draft.text, "de", ignore="Jane Harbour Lane Maya "
                         "care harbourlane example") == []
    assert bare.templates["de"].strings["offer_generic"] in draft.text


@pytest.mark.parametrize("text, language, sign_off", [
    ("La livraison est arrivée avec une heure de retard.", "fr", "L'équipe Harbour Lane"),
    ("A entrega chegou com uma hora de atraso.", "pt", "A equipa Harbour Lane"),
    ("配達が1時間遅れて、料理が冷めていました。", "ja", "Harbour Lane スタッフ一同"),
])
def test_sign_off_is_in_the_reply_language(policy, make_review, text, language, sign_off):
    draft = draft_review(make_review(platform="app_store", text=text), policy)
    assert draft.language == language
    assert draft.text.endswith(sign_off)
    assert "app team" not in draft.text


@pytest.mark.parametrize("author, greeting", [
    ("JOHN SMITH", "John"), ("A Google user", None), ("The Smiths", None),
    ("@zed_99", None), ("محمد العتيبي", None),
])
def test_names_are_normalised_or_left_out(policy, make_review, author, greeting):
    draft = draft_review(make_review(author=author, rating=1,
                                     text="The delivery was two hours late."), policy)
    first_line = draft.text.splitlines()[0]
    if greeting:
        assert greeting in first_line and author not in draft.text
    else:
        assert first_line in ("Hi there,", "Hello,")


def test_arabic_name_greets_an_arabic_reply(policy, make_review):
    draft = draft_review(make_review(author="محمد العتيبي", rating=1,
                                     text="التوصيل تأخر ساعة والأكل وصل بارد"), policy)
    assert draft.language == "ar" and "محمد" in draft.text.splitlines()[0]


def test_thanks_again_only_follows_thanks(policy):
    for review in corpus("realworld_dev.jsonl"):
        text = draft_review(review, policy).text.lower()
        if "thanks again" in text or "thank you again" in text:
            before = text.split("again")[0]
            assert before.count("thank") >= 2, text


def test_holding_reply_shows_concern_without_liability(policy, make_review):
    draft = draft_review(make_review(rating=1, text="My husband is in hospital with food "
                                                    "poisoning after eating your wrap."), policy)
    assert draft.escalate and draft.offer is None
    assert any(w in draft.text.lower() for w in ("hope", "recover", "sorry to hear"))
    assert "our fault" not in draft.text.lower() and draft.violations == []


def test_a_sentence_mixing_languages_is_found_by_the_template_vocabularies(policy):
    english_offer = policy.offer("replace_item").gives["en"]
    mixed = f"Hallo Lukas! Als Ausgleich bieten wir Ihnen {english_offer} an. Schreiben Sie uns."
    found = foreign_words(policy, mixed, "de")
    assert len(found) == 1 and found[0][0].startswith("Als Ausgleich")
    assert {"replacement", "affected"} <= set(found[0][1])
    assert foreign_words(policy, "Hallo Lukas! Schreiben Sie uns bitte.", "de") == []
    found = foreign_words(policy, "ご連絡ください。Please email us.", "ja")
    assert found[0][0] == "Please email us."
