"""The engine with the store: usage summed per day, the budget, and approved edits as examples."""
from __future__ import annotations

from datetime import date

from plugin.actions import Actor, approve, edit_draft
from plugin.classify import classifier_for
from plugin.drafting import draft_review
from plugin.drafting.house_examples import StoreExamples, edited_pairs
from plugin.drafting.usage import DatabaseLedger
from plugin.store.reviews import ingest, save_draft
from tests.llm.fake_openai import compliant

EDITOR, APPROVER = Actor("eve", "editor"), Actor("ann", "approver")
# The compliant model may pick the manager-approved voucher; approval rules are not under test.
OVERRIDE = "checked with the manager"
EDITED = ("Hi Jane, that is not the delivery we promise and I'm sorry. Please write to "
          "care@harbourlane.example and I'll sort it myself. – Maya, Harbour Lane")


def store_review(session, policy, review):
    return ingest(session, review, classifier_for(policy).classify(review)).row


def test_usage_is_summed_per_day_and_model(database, fake, make_drafter, policy, make_review):
    today = {"value": date(2026, 11, 24)}
    ledger = DatabaseLedger(database, today=lambda: today["value"])
    drafter = make_drafter(ledger=ledger)
    drafts = [draft_review(make_review(), policy, drafter) for _ in range(3)]
    spent = sum(d.prompt_tokens + d.completion_tokens for d in drafts)
    assert ledger.used_today() == spent > 0
    today["value"] = date(2026, 11, 25)
    assert ledger.used_today() == 0
    ledger.add("other-model", 10, 5)
    rows = ledger.by_day()
    assert rows[0] == (date(2026, 11, 25), "other-model", 10, 5, 1)
    assert rows[1][:2] == (date(2026, 11, 24), "test-model") and rows[1][4] == 3


def test_budget_in_the_database_stops_llm_drafting(database, fake, make_drafter, policy,
                                                   make_review):
    ledger = DatabaseLedger(database)
    ledger.add("test-model", 900, 100)
    drafter = make_drafter(ledger=ledger, daily_token_budget=1000)
    draft = draft_review(make_review(), policy, drafter)
    assert draft.engine == "offline" and "budget" in draft.note
    assert fake.requests == []


def test_approved_edits_become_examples_for_similar_reviews(database, fake, make_drafter, policy,
                                                          make_review):
    drafter = make_drafter()

    def drafted(session, review):
        row = store_review(session, policy, review)
        save_draft(session, row, draft_review(review, policy, drafter))
        return row

    with database.session() as session:
        row = drafted(session, make_review(text="The delivery was two hours late."))
        edit_draft(session, row, policy, EDITOR, EDITED, None)
        approve(session, row, policy, APPROVER, override_reason=OVERRIDE)
        untouched = drafted(session, make_review(text="The delivery was late again.", rating=2))
        approve(session, untouched, policy, APPROVER, override_reason=OVERRIDE)
        other = drafted(session, make_review(text="Rude staff at the till."))
        edit_draft(session, other, policy, EDITOR, "Sorry about the staff. – Maya", None)
        approve(session, other, policy, APPROVER, override_reason=OVERRIDE)
        pairs = edited_pairs(session, "en", 1)
    assert sorted((p.engine, p.final) for p in pairs) == [
        ("llm", EDITED), ("llm", "Sorry about the staff. – Maya")]
    assert all(p.drafted != p.final for p in pairs)

    provider = StoreExamples(database)
    review = make_review(text="My delivery arrived late and cold.", rating=1)
    examples = provider(review, classifier_for(policy).classify(review), 3)
    assert [e.reply for e in examples][0] == EDITED
    assert len(examples) == 2 and "staff" not in " ".join(e.reply for e in examples)

    fake.requests.clear()
    fake.script(compliant)
    draft_review(review, policy, make_drafter(examples=provider))
    user = fake.requests[0].body["messages"][1]["content"]
    assert EDITED in user and user.index(EDITED) < user.index("<review>\n")
    assert "two hours late" in user


def test_examples_skip_other_languages(database, fake, make_drafter, policy, make_review):
    drafter = make_drafter()
    spanish = make_review(text="El pedido llegó muy tarde y frío.")
    with database.session() as session:
        row = store_review(session, policy, spanish)
        save_draft(session, row, draft_review(spanish, policy, drafter))
        approve(session, row, policy, APPROVER, override_reason="voucher agreed with manager")
    review = make_review(text="The delivery was late.")
    assert StoreExamples(database)(review, classifier_for(policy).classify(review), 3) == []
