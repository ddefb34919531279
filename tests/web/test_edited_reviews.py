"""A review the customer edits after our reply: its page shows both wordings and both ratings
side by side, the reply they had seen, and drafts a follow-up through the usual drafter."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

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
