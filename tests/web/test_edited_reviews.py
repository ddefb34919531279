"""A review the customer edits after our reply: its page shows both wordings and both ratings
side by side, the reply they had seen, and drafts a follow-up through the usual drafter."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Review
from plugin import intake
from plugin.actions import Actor, approve
from plugin.context import get_db, get_policy
from plugin.store.models import DraftRow, ReviewRow, RevisionRow


def _edit(app, review_id: int, text: str, rating: int) -> None:
    """The platform sends the review again with new words, as a sync would."""
    with app.app_context(), get_db().session() as session:
        known = session.get(ReviewRow, review_id)
        review = Review.from_json({
            "platform": known.platform, "external_id": known.external_id, "rating": rating,
            "source": known.source, "author": known.author, "text": text,
            "created_at": known.review_created_at.isoformat(),
            "updated_at": datetime.now(UTC).isoformat(),
            # The platform sends the public reply with the review, as it stands.
            "reply": {"text": known.platform_reply} if known.platform_reply else None})
        stored = intake.take_in(session, [review], get_policy(), intake.Door("sync:demo"))
        assert stored[0].outcome == "updated"


def _section(html: str, marker: str) -> str:
    return html.split(f'id="{marker}"')[1].split("</div>")[0]


def _words(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_an_edit_after_our_reply_shows_both_versions_and_drafts_a_follow_up(app, seed, as_role,
                                                                             row, work):
    review_id = seed(text="pizza was cold n the driver was rude. never again", rating=1,
                     author="Dario Conti")
    with app.app_context(), get_db().session() as session:
        approve(session, session.get(ReviewRow, review_id), get_policy(),
                Actor("approver", "approver"), override_reason="read it")
    work()
    posted = row(review_id)
    assert posted.status == "posted"
    public = posted.platform_reply

    _edit(app, review_id, "ok update: they called me n sent a new pizza. still slow tho", 3)
    assert row(review_id).status == "needs_attention" and row(review_id).follow_up
    with app.app_context(), get_db().session() as session:
        kept = session.query(RevisionRow).filter_by(review_id=review_id).all()
    assert [(r.rating, r.text) for r in kept] == [
        (1, "pizza was cold n the driver was rude. never again")]

    client = as_role("editor")
    html = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    before, after = _section(html, "edit-before"), _section(html, "edit-after")
    assert 'aria-label="1 of 5 stars"' in before and 'aria-label="3 of 5 stars"' in after
    assert "+2 ★" in after
    assert "pizza was cold n the driver was rude. never again" in _words(before)
    assert "ok update: they called me n sent a new pizza. still slow tho" in _words(after)
    assert "<del>never</del>" in before and "<ins>still</ins>" in after
    reply = html.split('id="edit-reply"')[1].split("</div>")[0]
    assert "Our public reply" in reply and public.split("\n")[0] in reply

    response = client.post(f"/reviews/{review_id}/follow-up", data={})
    assert response.status_code == 302 and "ok=follow_up" in response.location
    with app.app_context(), get_db().session() as session:
        drafts = session.query(DraftRow).filter_by(review_id=review_id).order_by(
            DraftRow.version).all()
    assert len(drafts) == 2 and drafts[-1].instruction.startswith("Follow-up")
    assert "now 3 stars, was 1" in drafts[-1].instruction
    assert row(review_id).current_draft_id == drafts[-1].id
    assert row(review_id).platform_reply == public

    html = client.get(response.location).get_data(as_text=True)
    assert "follow-up draft was written" in html
    assert public.split("\n")[0] in html.split('id="public-reply"')[1]  # still on show
    assert 'id="edit-before"' in html


def test_an_edit_that_comes_without_the_reply_keeps_ours_on_record(app, seed, row, work):
    """A door that does not carry replies (a webhook, an import) says nothing about them."""
    review_id = seed(text="Lieferung 2h zu spät, Torte geschmolzen", rating=1)
    with app.app_context(), get_db().session() as session:
        approve(session, session.get(ReviewRow, review_id), get_policy(),
                Actor("approver", "approver"), override_reason="read it")
    work()
    public = row(review_id).platform_reply
    assert public
    with app.app_context(), get_db().session() as session:
        known = session.get(ReviewRow, review_id)
        copy = Review.from_json({
            "platform": known.platform, "external_id": known.external_id, "rating": 2,
            "source": known.source, "author": known.author,
            "text": "Lieferung 2h zu spät, Torte geschmolzen. Aber Geld zurück bekommen",
            "created_at": known.review_created_at.isoformat()})
        assert intake.take_in(session, [copy], get_policy(),
                              intake.Door("webhook"))[0].outcome == "updated"
    assert row(review_id).platform_reply == public and row(review_id).follow_up


def test_an_edit_before_any_reply_shows_the_earlier_draft(app, seed, as_role):
    review_id = seed(text="Torte war matschig", rating=2, author="Ute")
    _edit(app, review_id, "Torte war matschig, aber der Service hat sich entschuldigt", 4)
    html = as_role("viewer").get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "Our draft for the earlier version" in html
    assert 'id="follow-up"' not in html  # a viewer cannot draft


def test_a_review_never_edited_has_no_comparison_and_refuses_a_follow_up(app, seed, as_role):
    review_id = seed(text="nice cake, thx", rating=5,
                     created_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    client = as_role("editor")
    assert 'id="edited"' not in client.get(f"/reviews/{review_id}").get_data(as_text=True)
    response = client.post(f"/reviews/{review_id}/follow-up", data={})
    assert response.status_code == 409
    assert "has not edited" in response.get_data(as_text=True)


def test_with_a_model_the_follow_up_is_drafted_by_it_with_the_request(tmp_path):
    """The follow-up goes through the configured drafter like any redraft: the model is asked
    (real openai SDK, loopback server) with the follow-up request among its instructions."""
    import dataclasses

    from plugin.app import create_app
    from plugin.config import LLMSettings, Settings
    from tests.llm.fake_openai import FakeOpenAI

    from .conftest import _seeder
    from .webtools import _template_database, copy_sqlite, dispose, login, make_config

    fake = FakeOpenAI().start()
    copy_sqlite(_template_database(), tmp_path / "web.sqlite")
    settings = dataclasses.replace(Settings.from_env({}), llm=LLMSettings(
        model="test-model", base_url=fake.url, api_key="sk-test-0123456789abcdef", timeout=2.0,
        max_attempts=2))
    app = create_app(make_config(tmp_path), settings=settings)
    try:
        review_id = _seeder(app)(text="pizza cold. again.", rating=1)
        _edit(app, review_id, "pizza cold. again. ok they refunded me", 2)
        client = app.test_client()
        assert login(client, "editor").status_code == 302
        assert client.post(f"/reviews/{review_id}/follow-up").status_code == 302
        prompt = "\n".join(m["content"] for m in fake.requests[-1].body["messages"])
        assert "Follow-up: the customer edited the review after our reply (now 2 stars, " \
               "was 1)" in prompt
        with app.app_context(), get_db().session() as session:
            draft = session.get(DraftRow, session.get(ReviewRow, review_id).current_draft_id)
        assert draft.engine == "llm" and draft.instruction.startswith("Follow-up")

        # "Redraft" takes the same way: the model is called outside the stored transaction,
        # which on SQLite would otherwise wait on itself for the token count.
        assert client.post(f"/reviews/{review_id}/regenerate",
                           data={"instruction": "kürzer bitte"}).status_code == 302
        assert "kürzer bitte" in "\n".join(m["content"]
                                            for m in fake.requests[-1].body["messages"])
    finally:
        dispose(app)
        fake.stop()


def test_a_draft_written_before_the_customer_edits_again_is_refused(app, seed):
    from plugin import actions
    from plugin.errors import ActionError

    review_id = seed(text="order wrong, no fries", rating=2)
    with app.app_context(), get_db().session() as session:
        prepared = actions.prepare_redraft(session.get(ReviewRow, review_id), get_policy(),
                                           None)
    _edit(app, review_id, "order wrong, no fries. and cold burger", 1)
    with app.app_context(), get_db().session() as session, \
            pytest.raises(ActionError) as refused:
        actions.regenerate(session, session.get(ReviewRow, review_id), get_policy(),
                           Actor("editor", "editor"), prepared=prepared)
    assert refused.value.code == "draft_changed"
