"""Approve and post through the queue: the state rules, the demo connector, and failures."""
from __future__ import annotations

import json
import re

import pytest

from connectors.base import Connector, PostedReply
from connectors.errors import PlatformRejected, TransientError
from plugin.actions import ActionError, Actor
from plugin.app import get_db
from plugin.posting import post_review
from plugin.store.models import AuditRow, DraftRow, ReviewRow


class Recording(Connector):
    """A platform double: scripted current reply and post outcome, every call recorded."""

    platform = "google_business"

    def __init__(self, current: str | None = None, error: Exception | None = None):
        super().__init__({})
        self.current, self.error, self.posts, self.reads = current, error, [], 0

    def fetch(self, since=None):
        return iter(())

    def get_reply(self, review):
        self.reads += 1
        return PostedReply(self.current) if self.current is not None else None

    def post_reply(self, review, text):
        if self.error is not None:
            raise self.error
        self.posts.append(text)
        return PostedReply(text, state="pending_publish")


@pytest.fixture
def platform(app):
    """Replace the source resolution with one scripted connector for every review."""
    double = Recording()
    app.extensions["makeright.connector_for"] = lambda row: double
    return double


def replies_file(app):
    return [json.loads(line) for line in
            open(f"{app.instance_path}/demo_replies.jsonl", encoding="utf-8")]


def test_approve_and_post_through_the_demo_connector(app, seed, as_role, row):
    review_id = seed()
    client = as_role("approver")
    response = client.post(f"/reviews/{review_id}/approve", data={"post": "1"})
    assert response.status_code == 302
    posted = row(review_id)
    assert posted.status == "posted" and posted.post_state == "published"
    with app.app_context(), get_db().session() as session:
        draft = session.get(DraftRow, posted.current_draft_id)
    assert replies_file(app)[-1]["text"] == draft.text == posted.platform_reply
    html = client.get(response.location).get_data(as_text=True)
    assert "Posted. The reply is public" in html
    events = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('id="events"')[1]))
    assert "approver Posting → Posted Posted" in events
    assert "approver Approved → Posting" in events


def test_editors_and_viewers_cannot_approve_or_post(seed, as_role, row, platform):
    review_id = seed()
    for role in ("viewer", "editor"):
        client = as_role(role)
        assert client.post(f"/reviews/{review_id}/approve", data={"post": "1"}).status_code == 403
        assert client.post(f"/reviews/{review_id}/post").status_code == 403
    assert row(review_id).status == "drafted" and platform.posts == []


def test_flagged_draft_needs_an_approvers_written_reason(app, seed, as_role, row, platform):
    review_id = seed(draft_text="So sorry! Here is €50 back, email me at me@else.example.")
    assert row(review_id).status == "needs_attention"
    client = as_role("approver")
    refused = client.post(f"/reviews/{review_id}/approve", data={"post": "1"})
    assert refused.status_code == 422
    assert "needs a written reason" in refused.get_data(as_text=True)
    assert row(review_id).status == "needs_attention" and platform.posts == []
    ok = client.post(f"/reviews/{review_id}/approve",
                     data={"post": "0", "override_reason": "Manager agreed on the phone"})
    assert ok.status_code == 302 and row(review_id).status == "approved"
    with app.app_context(), get_db().session() as session:
        reasons = [a.reason for a in session.query(AuditRow).filter_by(review_id=review_id)]
    assert any("Manager agreed on the phone" in r for r in reasons)


def test_escalated_review_needs_a_reason_too(seed, as_role, row):
    review_id = seed(text="My lawyer will be in touch about this.")
    client = as_role("approver")
    assert client.post(f"/reviews/{review_id}/approve", data={}).status_code == 422
    assert client.post(f"/reviews/{review_id}/approve",
                       data={"override_reason": "Legal reviewed the holding reply"}
                       ).status_code == 302
    assert row(review_id).status == "approved"


def test_over_the_limit_can_never_be_posted(seed, as_role, row, platform):
    review_id = seed(platform="google_play", draft_text="Sorry. " * 60)
    response = as_role("admin").post(f"/reviews/{review_id}/approve",
                                     data={"post": "1", "override_reason": "ship it"})
    assert response.status_code == 422 and "never be posted" in response.get_data(as_text=True)
    assert row(review_id).status == "needs_attention" and platform.posts == []


def test_platform_refusal_shows_its_message_and_a_retry(seed, as_role, row, platform):
    platform.error = PlatformRejected("400 from platform", status=400,
                                      platform_message="Reply contains prohibited content")
    review_id = seed()
    client = as_role("approver")
    response = client.post(f"/reviews/{review_id}/approve", data={"post": "1"})
    failed = row(review_id)
    assert failed.status == "failed" and failed.last_error == "Reply contains prohibited content"
    html = client.get(response.location).get_data(as_text=True)
    assert "Reply contains prohibited content" in html and "Retry: approve and post" in html
    platform.error = None
    client.post(f"/reviews/{review_id}/approve", data={"post": "1"})
    assert row(review_id).status == "posted" and len(platform.posts) == 1


def test_transient_failure_stays_approved_for_a_retry(seed, as_role, row, platform):
    platform.error = TransientError("timeout", platform_message="Gateway timeout")
    review_id = seed()
    as_role("approver").post(f"/reviews/{review_id}/approve", data={"post": "1"})
    waiting = row(review_id)
    assert waiting.status == "approved" and waiting.attempts == 1
    assert waiting.last_error == "Gateway timeout" and waiting.next_attempt_at is not None


def test_someone_elses_reply_is_never_overwritten(seed, as_role, row, platform):
    platform.current = "Thanks, we have sorted this out by phone. - Owner"
    review_id = seed()
    as_role("approver").post(f"/reviews/{review_id}/approve", data={"post": "1"})
    stuck = row(review_id)
    assert stuck.status == "needs_attention" and platform.posts == []
    assert stuck.platform_reply == platform.current


def test_our_text_already_there_is_not_posted_again(app, seed, as_role, row, platform):
    review_id = seed()
    with app.app_context(), get_db().session() as session:
        platform.current = session.get(DraftRow, session.get(ReviewRow, review_id)
                                       .current_draft_id).text + "\n"
    as_role("approver").post(f"/reviews/{review_id}/approve", data={"post": "1"})
    assert row(review_id).status == "posted" and platform.posts == [] and platform.reads == 1


def test_post_review_refuses_unapproved_text_and_non_approvers(app, seed, as_role, platform):
    review_id = seed()
    as_role("approver").post(f"/reviews/{review_id}/approve", data={})
    with app.app_context(), get_db().session() as session:
        stored = session.get(ReviewRow, review_id)
        with pytest.raises(ActionError, match="approver"):
            post_review(get_db(), session, stored, platform, Actor("ed", "editor"))
        session.get(DraftRow, stored.current_draft_id).text += " (tampered)"
        session.flush()
        with pytest.raises(ActionError, match="changed after it was approved"):
            post_review(get_db(), session, stored, platform, Actor("ann", "approver"))
    assert platform.posts == [] and platform.reads == 0


def test_editing_after_approval_withdraws_it(seed, as_role, row):
    review_id = seed()
    as_role("approver").post(f"/reviews/{review_id}/approve", data={})
    assert row(review_id).status == "approved"
    as_role("editor").post(f"/reviews/{review_id}/save",
                           data={"text": "We are sorry the cake was damaged. Maya"})
    edited = row(review_id)
    assert edited.status == "drafted" and edited.approved_text_hash is None


def test_save_rechecks_and_history_shows_the_diff(app, seed, as_role, row):
    review_id = seed()
    client = as_role("editor")
    client.post(f"/reviews/{review_id}/save",
                data={"text": "We are so sorry, Jane.\r\nMaya, Harbour Lane",
                      "offer": "replace_item"})
    html = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "<ins>" in html and "<del>" in html and "v2</strong> by editor" in html
    assert "Passes every policy check" in html
    with app.app_context(), get_db().session() as session:
        saved = session.get(DraftRow, session.get(ReviewRow, review_id).current_draft_id)
    assert saved.text == "We are so sorry, Jane.\nMaya, Harbour Lane"
    assert saved.offer_id == "replace_item" and saved.created_by == "editor"
    bad = client.post(f"/reviews/{review_id}/save",
                      data={"text": "Sorry!", "offer": "goodwill_voucher_xx"})
    assert bad.status_code == 422 and "not allowed" in bad.get_data(as_text=True)
    assert "Sorry!" in bad.get_data(as_text=True)  # the unsaved text stays in the editor


def test_skip_escalate_unapprove_and_regenerate(seed, as_role, row):
    review_id = seed()
    editor, approver = as_role("editor"), as_role("approver")
    assert editor.post(f"/reviews/{review_id}/skip", data={"reason": ""}).status_code == 422
    editor.post(f"/reviews/{review_id}/regenerate", data={"instruction": "shorter"})
    html = editor.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "asked: “shorter”" in html
    approver.post(f"/reviews/{review_id}/approve", data={})
    approver.post(f"/reviews/{review_id}/unapprove", data={})
    assert row(review_id).status == "drafted"
    editor.post(f"/reviews/{review_id}/escalate", data={"reason": "Mentions a journalist"})
    assert row(review_id).status == "needs_attention" and row(review_id).escalated
    editor.post(f"/reviews/{review_id}/skip", data={"reason": "Handled by phone"})
    assert row(review_id).status == "skipped"
    again = editor.post(f"/reviews/{review_id}/skip", data={"reason": "twice"})
    assert again.status_code == 409


def test_read_only_source_offers_copy_instead_of_post(seed, as_role):
    review_id = seed(answerable=False, source="app-store-feed")
    html = as_role("approver").get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "Copy reply" in html and "Approve and post" not in html


def test_review_without_a_source_cannot_be_posted(seed, as_role, row):
    review_id = seed(source="")
    response = as_role("approver").post(f"/reviews/{review_id}/approve", data={"post": "1"})
    assert response.status_code == 422 and "not configured" in \
        response.get_data(as_text=True)
    assert row(review_id).status == "drafted"


def test_bulk_approve_and_post_leaves_flagged_reviews_behind(seed, as_role, row, platform):
    clean = seed()
    flagged = seed(draft_text="Sorry! Have €40 back.")
    escalated = seed(text="I was injured by glass in my sandwich.")
    response = as_role("approver").post("/queue/bulk", data={
        "action": "approve_post", "ids": [str(clean), str(flagged), str(escalated)]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "1 done, 2 left behind" in html
    assert "Approval needs a written reason" in html
    assert row(clean).status == "posted" and len(platform.posts) == 1
    assert row(flagged).status == "needs_attention" and row(escalated).status == "needs_attention"


def test_bulk_roles_and_skip_reason(seed, as_role, row):
    first, second = seed(), seed()
    editor = as_role("editor")
    assert editor.post("/queue/bulk", data={"action": "approve", "ids": [str(first)]}
                       ).status_code == 403
    assert editor.post("/queue/bulk", data={"action": "skip", "ids": [str(first)]}
                       ).status_code == 422
    done = editor.post("/queue/bulk", data={"action": "skip", "reason": "Duplicates",
                                            "ids": [str(first), str(second)]})
    assert "2 done, 0 left behind" in done.get_data(as_text=True)
    assert row(first).status == row(second).status == "skipped"
    assert as_role("viewer").post("/queue/bulk", data={"action": "skip", "reason": "x",
                                                       "ids": [str(first)]}).status_code == 403
