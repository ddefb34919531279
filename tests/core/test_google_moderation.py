"""Before a Google Business Profile reply is approved: what Google's moderation would reject.

Google names its reasons (PolicyViolation in
https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews);
identical or similar replies (REPETITIVE) are rejected, so a reply too like a recent reply of
the same location needs a person's written reason, as do personal data, links and solicitation.
"""
from __future__ import annotations

import pytest

from plugin.actions import ActionError, Actor, approval_concerns, approve, edit_draft
from plugin.classify import classifier_for
from plugin.drafting import draft_review
from plugin.store.models import ReviewRow, utcnow
from plugin.store.reviews import ingest, save_draft, to_review

EDITOR = Actor("sam", "approver")
POSTED = ("Priya, we're so sorry the food came cold and you waited 45 minutes. That isn't the "
          "evening we want for anyone. Please write to care@harbourlane.example and we'll make "
          "it right. – Harbour Lane")


def stored(session, policy, make_review, *, source="accounts/7/locations/dock",
           platform="google_business", **fields) -> ReviewRow:
    review = make_review(platform=platform, source=source, **fields)
    row = ingest(session, review, classifier_for(policy).classify(review)).row
    save_draft(session, row, draft_review(to_review(row), policy))
    return row


@pytest.fixture
def earlier_reply(database, policy, make_review):
    """A reply the dock location published yesterday."""
    with database.session() as session:
        row = stored(session, policy, make_review, text="comida fría otra vez, 45 min!!",
                     author="Priya R")
        row.platform_reply, row.posted_at = POSTED, utcnow()
    return POSTED


def concerns_for(database, policy, make_review, reply: str, **fields) -> list[str]:
    with database.session() as session:
        row = stored(session, policy, make_review, **fields)
        edit_draft(session, row, policy, EDITOR, reply, None)
        return approval_concerns(session, row, policy, reply, None)[1]


def test_a_near_copy_of_a_recent_reply_at_the_same_location_is_flagged(
        database, policy, make_review, earlier_reply):
    copy = earlier_reply.replace("Priya", "Tom").replace("45 minutes", "an hour")
    found = concerns_for(database, policy, make_review, copy, text="cold burger, hour wait",
                         author="Tom")
    assert any("REPETITIVE" in c and "same location" in c for c in found), found


def test_the_same_words_elsewhere_or_on_play_are_not_repetitive(
        database, policy, make_review, earlier_reply):
    other_place = concerns_for(database, policy, make_review, earlier_reply,
                               source="accounts/7/locations/mill", text="frío", author="Ana")
    play = concerns_for(database, policy, make_review, earlier_reply, platform="google_play",
                        source="com.harbour.app", text="app crashed", author="Ana")
    assert not any("REPETITIVE" in c for c in other_place + play)


@pytest.mark.parametrize("text, reason", [
    ("So sorry Jo! If we fixed it, would you update your review to 5 stars? – Harbour Lane",
     "ADVERTISING_AND_SOLICITATION"),
    ("Sorry Jo, see harbour-deals.shop for 20% off next time. – Harbour Lane",
     "ADVERTISING_AND_SOLICITATION"),
    ("Sorry Jo, we emailed jo.baker77@gmail.com about order 88412. – Harbour Lane",
     "PERSONAL_INFO"),
])
def test_solicitation_links_and_personal_data_carry_googles_reason(
        database, policy, make_review, text, reason):
    found = concerns_for(database, policy, make_review, text, author="Jo Baker",
                         text="order 88412 wrong!! mail me jo.baker77@gmail.com")
    assert any(reason in c for c in found), found


def test_approving_a_flagged_reply_needs_a_written_reason(database, policy, make_review,
                                                          earlier_reply):
    with database.session() as session:
        row = stored(session, policy, make_review, text="frio y tarde", author="Luis")
        edit_draft(session, row, policy, EDITOR, earlier_reply.replace("Priya", "Luis"), None)
        with pytest.raises(ActionError, match="REPETITIVE"):
            approve(session, row, policy, EDITOR)
        approve(session, row, policy, EDITOR, override_reason="Luis asked for this wording")
        assert row.status == "approved"
