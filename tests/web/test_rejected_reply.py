"""A reply Google's moderation rejects comes back to the queue with Google's reason shown."""
from __future__ import annotations

from connectors.base import Connector, PostedReply
from plugin.actions import Actor, approve
from plugin.context import get_db, get_policy
from plugin.store.models import ReviewRow


class Moderated(Connector):
    """Google Business Profile as it moderates: a reply is PENDING, then APPROVED or REJECTED
    with a PolicyViolation."""

    platform = "google_business"

    def __init__(self):
        super().__init__({})
        self.written: dict[str, str] = {}
        self.state, self.reason = "pending", None

    def fetch(self, since=None):
        return iter(())

    def get_reply(self, review):
        text = self.written.get(review.external_id)
        if text is None:
            return None
        return PostedReply(text, state=self.state, reason=self.reason)

    def post_reply(self, review, text):
        self.written[review.external_id] = text
        return PostedReply(text, state="pending")


def test_the_review_page_shows_googles_reason_and_the_redraft(app, seed, as_role, row, work):
    review_id = seed(text="cold pizza AGAIN. 3rd time this month!!", author="Dario Conti")
    with app.app_context(), get_db().session() as session:
        approve(session, session.get(ReviewRow, review_id), get_policy(),
                Actor("approver", "approver"), override_reason="read it")
    google = Moderated()
    work(google)
    assert (row(review_id).status, row(review_id).public_state) == ("posted", "posted")

    google.state, google.reason = "rejected", "REPETITIVE"
    for _ in range(50):  # the step reads again once next_attempt_at (10 ms) has come
        work(google, ticks=1)
        if row(review_id).status != "posted":
            break
    reopened = row(review_id)
    assert (reopened.status, reopened.public_reason) == ("needs_attention", "REPETITIVE")

    html = as_role("viewer").get(f"/reviews/{review_id}").get_data(as_text=True)
    reason = html.split('id="rejected-reason"')[1].split("</p>")[0]
    assert "REPETITIVE" in reason and "similar content" in reason
    assert "version 2" in html  # the redraft that answers the reason is on the page
