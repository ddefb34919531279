"""Approve and post through the queue: what is on screen is what is approved and posted, the
post goes through a worker, and every outcome has its own message."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from connectors.base import Connector, PostedReply
from connectors.errors import OutcomeUnknown, PlatformRejected, TransientError
from plugin.actions import ActionError, Actor
from plugin.context import get_db
from plugin.pipeline.control import set_paused
from plugin.posting import request_post
from plugin.store.models import AuditRow, DraftRow, ReviewRow


class Recording(Connector):
    """A platform double: one reply per review (an upsert), scripted failures, calls recorded."""

    platform = "google_business"

    def __init__(self, current: str | None = None, error: Exception | None = None):
        super().__init__({})
        #: The reply every review shows until one is written to it.
        self.current, self.error, self.posts, self.reads = current, error, [], 0
        self.written: dict[str, str] = {}

    def fetch(self, since=None):
        return iter(())

    def get_reply(self, review):
        self.reads += 1
        text = self.written.get(review.external_id, self.current)
        return PostedReply(text) if text is not None else None

    def post_reply(self, review, text):
        if self.error is not None:
            raise self.error
        self.posts.append(text)
        self.written[review.external_id] = text
        return PostedReply(text, state="pending_publish")


@pytest.fixture
def platform(app):
    """Replace the source resolution with one scripted connector for every review."""
    double = Recording()
    app.extensions["makeright.connector_for"] = lambda source, **_: double
    return double


def replies_file(app):
    return [json.loads(line) for line in
            open(f"{app.instance_path}/demo_replies.jsonl", encoding="utf-8")]


def text_of(html: str, marker: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split(marker)[1]))


def audit(app, review_id: int) -> list[AuditRow]:
    with app.app_context(), get_db().session() as session:
        return list(session.scalars(select(AuditRow).where(AuditRow.review_id == review_id)
                                    .order_by(AuditRow.id)))


def test_approve_and_post_returns_at_once_and_the_worker_posts(app, seed, as_role, row, shown,
                                                               work):
    review_id = seed()
    client = as_role("approver")
    response = client.post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))
    assert response.status_code == 302 and "ok=posting" in response.location
    waiting = client.get(response.location).get_data(as_text=True)
    assert "Posting…" in waiting and f'data-follow="/reviews/{review_id}/status' in waiting
    assert row(review_id).status == "approved" and row(review_id).post_requested_by == "approver"
    status = client.get(f"/reviews/{review_id}/status").get_json()
    assert status["done"] is False and status["status"] == "approved"

    assert work()["post"] == 1
    status = client.get(f"/reviews/{review_id}/status").get_json()
    assert status["done"] and status["outcome"] == "posted" and "ok=posted" in status["page"]
    posted = row(review_id)
    assert posted.status == "posted" and posted.post_state == "published"
    assert posted.post_requested_by is None  # the request ended with the approval
    with app.app_context(), get_db().session() as session:
        draft = session.get(DraftRow, posted.current_draft_id)
    assert replies_file(app)[-1]["text"] == draft.text == posted.platform_reply
    html = client.get(response.location).get_data(as_text=True)
    assert "Posted. The reply is public" in html and "data-follow" not in html
    events = text_of(html, 'id="events"')
    assert "test-worker Posting → Posted" in events and "approver post requested" in events


def test_an_edit_on_screen_is_saved_and_approved_with_the_click(app, seed, as_role, row,
                                                                shown, work):
    """No "Save" first: the approve buttons send the editor's text, which is what is posted."""
    review_id = seed()
    edited = "Jane, we are sorry the cake arrived damaged. We'll bake you a new one. Maya"
    response = as_role("approver").post(f"/reviews/{review_id}/approve",
                                        data=shown(review_id, post="1",
                                                   text=edited.replace(" We'll", "\r\nWe'll")))
    assert response.status_code == 302
    work()
    with app.app_context(), get_db().session() as session:
        versions = session.scalars(select(DraftRow).where(DraftRow.review_id == review_id)
                                   .order_by(DraftRow.version)).all()
        assert [(v.version, v.created_by) for v in versions] == [(1, "system"), (2, "approver")]
    assert versions[-1].text == edited.replace(" We'll", "\nWe'll")
    assert replies_file(app)[-1]["text"] == versions[-1].text
    assert row(review_id).status == "posted"


def test_a_draft_changed_underneath_is_refused_and_nothing_is_posted(app, seed, as_role, row,
                                                                     shown, work):
    review_id = seed()
    seen = shown(review_id)
    as_role("editor").post(f"/reviews/{review_id}/save",
                           data={**seen, "text": "Sorry, Jane! Write to us and we fix it. Sam"})
    mine = "Jane, I am sorry. We will replace the cake. Maya"
    refused = as_role("approver").post(f"/reviews/{review_id}/approve",
                                       data={**seen, "text": mine, "post": "1"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "The reply changed while you were looking at version 1: version 2 by editor" in html
    assert mine in html  # the person's text is still in the editor
    assert 'name="version" value="2"' in html
    current = row(review_id)
    assert current.status == "drafted" and current.post_requested_by is None
    assert work().get("post", 0) == 0
    import os
    assert not os.path.exists(f"{app.instance_path}/demo_replies.jsonl")
    # Saving over someone else's edit is refused the same way.
    again = as_role("editor").post(f"/reviews/{review_id}/save", data={**seen, "text": mine})
    assert again.status_code == 409 and "version 2 by editor" in again.get_data(as_text=True)


def test_a_form_without_a_version_approves_nothing(seed, as_role, row):
    review_id = seed()
    response = as_role("approver").post(f"/reviews/{review_id}/approve", data={"post": "1"})
    assert response.status_code == 409 and "which draft version" in \
        response.get_data(as_text=True)
    assert row(review_id).status == "drafted"


def test_editors_and_viewers_cannot_approve_or_post(seed, as_role, row, platform, shown):
    review_id = seed()
    for role in ("viewer", "editor"):
        client = as_role(role)
        assert client.post(f"/reviews/{review_id}/approve",
                           data=shown(review_id, post="1")).status_code == 403
        assert client.post(f"/reviews/{review_id}/post").status_code == 403
    assert row(review_id).status == "drafted" and platform.posts == []


def test_flagged_draft_needs_an_approvers_written_reason(app, seed, as_role, row, platform,
                                                         shown):
    review_id = seed(draft_text="So sorry! Here is €50 back, email me at me@else.example.")
    assert row(review_id).status == "needs_attention"
    client = as_role("approver")
    refused = client.post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))
    assert refused.status_code == 422
    assert "needs a written reason" in refused.get_data(as_text=True)
    assert row(review_id).status == "needs_attention" and platform.posts == []
    ok = client.post(f"/reviews/{review_id}/approve",
                     data=shown(review_id, post="0",
                                override_reason="Manager agreed on the phone"))
    assert ok.status_code == 302 and row(review_id).status == "approved"
    reasons = [a.reason for a in audit(app, review_id)]
    assert any("Manager agreed on the phone" in r for r in reasons)


def test_an_edit_that_needs_a_reason_is_not_saved_without_one(app, seed, as_role, row, shown):
    """Saved and approved together, or neither: the refused edit stays only in the editor."""
    review_id = seed()
    risky = "Sorry Jane! Here is €500 back, call me on +44 20 7946 0000."
    refused = as_role("approver").post(f"/reviews/{review_id}/approve",
                                       data=shown(review_id, post="1", text=risky))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and risky.replace("+", "") in html.replace("+", "")
    assert 'id="checks-ok"' not in html and 'id="concerns"' in html
    with app.app_context(), get_db().session() as session:
        assert session.scalar(select(DraftRow.version).where(DraftRow.review_id == review_id)
                              .order_by(DraftRow.version.desc()).limit(1)) == 1
    assert row(review_id).status == "drafted"


def test_escalated_review_needs_a_reason_too(seed, as_role, row, shown):
    review_id = seed(text="My lawyer will be in touch about this.")
    client = as_role("approver")
    assert client.post(f"/reviews/{review_id}/approve", data=shown(review_id)).status_code \
        == 422
    assert client.post(f"/reviews/{review_id}/approve",
                       data=shown(review_id, override_reason="Legal reviewed the holding reply")
                       ).status_code == 302
    assert row(review_id).status == "approved"


def test_over_the_limit_can_never_be_posted(seed, as_role, row, platform, shown):
    review_id = seed(platform="google_play", draft_text="Sorry. " * 60)
    response = as_role("admin").post(f"/reviews/{review_id}/approve",
                                     data=shown(review_id, post="1", override_reason="ship it"))
    assert response.status_code == 422 and "never be posted" in response.get_data(as_text=True)
    assert row(review_id).status == "needs_attention" and platform.posts == []


def test_platform_refusal_shows_its_message_and_a_retry(seed, as_role, row, platform, shown,
                                                        work):
    platform.error = PlatformRejected("400 from platform", status=400,
                                      platform_message="Reply contains prohibited content")
    review_id = seed()
    client = as_role("approver")
    response = client.post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))
    work(platform)
    failed = row(review_id)
    assert failed.status == "failed" and failed.last_error == "Reply contains prohibited content"
    html = client.get(response.location).get_data(as_text=True)
    assert "The platform refused the reply" in html
    assert "Reply contains prohibited content" in html and "Retry: approve and post" in html
    platform.error = None
    client.post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))
    work(platform)
    assert row(review_id).status == "posted" and len(platform.posts) == 1


def test_transient_failure_stays_approved_for_a_retry(seed, as_role, row, platform, shown,
                                                      work):
    platform.error = TransientError("timeout", platform_message="Gateway timeout")
    review_id = seed()
    client = as_role("approver")
    response = client.post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))
    work(platform, ticks=1)
    waiting = row(review_id)
    assert waiting.status == "approved" and waiting.attempts == 1
    assert waiting.last_error == "Gateway timeout" and waiting.next_attempt_at is not None
    html = client.get(response.location).get_data(as_text=True)
    assert "could not take the reply just now" in html and "data-follow" not in html


def test_an_unknown_outcome_is_read_before_anything_else(seed, as_role, row, platform, shown,
                                                         work):
    """The platform kept the reply but the answer was lost: posted, with no second write."""
    class SavedThenLost(Recording):
        def post_reply(self, review, text):
            self.posts.append(text)
            self.written[review.external_id] = text
            raise OutcomeUnknown("503 after saving")

    double = SavedThenLost()
    review_id = seed()
    as_role("approver").post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))
    work(double)
    assert row(review_id).status == "posted" and len(double.posts) == 1


def test_someone_elses_reply_is_replaced_only_with_the_explicit_control(
        app, seed, as_role, row, platform, shown, work):
    owner = "Thanks, we have sorted this out by phone. - Owner"
    platform.current = owner
    review_id = seed()
    client = as_role("approver")
    first = client.post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))
    work(platform)
    stuck = row(review_id)
    assert stuck.status == "needs_attention" and platform.posts == []
    assert stuck.platform_reply == owner
    page = client.get(first.location).get_data(as_text=True)
    assert "Not posted. It needs a person" in page and "Someone else has replied" in page
    panel = text_of(page, 'id="replace-panel"')
    assert "written by someone else" in panel and owner in panel
    assert "Replace the reply shown above with ours" in page
    reply_hash = re.search(r'name="replace_hash" value="([0-9a-f]+)"', page).group(1)
    queue = client.get("/queue").get_data(as_text=True)
    assert "Public reply</span>" in queue

    # Approving and posting again without the box leaves their reply alone.
    client.post(f"/reviews/{review_id}/approve",
                data=shown(review_id, post="1", replace_hash=reply_hash))
    work(platform)
    assert row(review_id).status == "needs_attention" and platform.posts == []
    # The box needs a reason.
    no_reason = client.post(f"/reviews/{review_id}/approve",
                            data=shown(review_id, post="1", replace="1", replace_hash=reply_hash))
    assert no_reason.status_code == 422 and "needs a written reason" in \
        no_reason.get_data(as_text=True)
    assert row(review_id).status == "needs_attention"
    done = client.post(f"/reviews/{review_id}/approve",
                       data=shown(review_id, post="1", replace="1", replace_hash=reply_hash,
                                  replace_reason="The owner's note promised nothing concrete"))
    assert done.status_code == 302
    work(platform)
    assert row(review_id).status == "posted" and len(platform.posts) == 1
    trail = [(a.actor, a.action, a.reason) for a in audit(app, review_id)]
    confirmed = [t for t in trail if t[1] == "overwrite_confirmed"]
    assert len(confirmed) == 1 and confirmed[0][0] == "approver"
    assert "promised nothing concrete" in confirmed[0][2] and owner in confirmed[0][2]
    replaced = [t for t in trail if t[1] == "reply_replaced"]
    assert len(replaced) == 1 and owner in replaced[0][2] and "approver" in replaced[0][2]


def test_a_different_reply_than_the_one_confirmed_is_not_replaced(seed, as_role, row, platform,
                                                                  shown, work):
    platform.current = "We called you. - Owner"
    review_id = seed()
    client = as_role("approver")
    client.post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))
    work(platform)
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    reply_hash = re.search(r'name="replace_hash" value="([0-9a-f]+)"', page).group(1)
    client.post(f"/reviews/{review_id}/approve",
                data=shown(review_id, post="1", replace="1", replace_hash=reply_hash,
                           replace_reason="ours is the full answer"))
    platform.current = "Refund sent today. - Manager"  # written after the confirmation
    work(platform)
    stuck = row(review_id)
    assert stuck.status == "needs_attention" and platform.posts == []
    assert stuck.platform_reply == "Refund sent today. - Manager"
    assert stuck.overwrite_by is None  # the permission ended with that approval


def test_our_text_already_there_is_not_posted_again(app, seed, as_role, row, platform, shown,
                                                    work):
    review_id = seed()
    with app.app_context(), get_db().session() as session:
        platform.current = session.get(DraftRow, session.get(ReviewRow, review_id)
                                       .current_draft_id).text + "\n"
    as_role("approver").post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))
    work(platform)
    assert row(review_id).status == "posted" and platform.posts == [] and platform.reads == 1


def test_request_post_refuses_unapproved_text_and_non_approvers(app, seed, as_role, shown):
    review_id = seed()
    as_role("approver").post(f"/reviews/{review_id}/approve", data=shown(review_id))
    with app.app_context(), get_db().session() as session:
        stored = session.get(ReviewRow, review_id)
        with pytest.raises(ActionError, match="approver"):
            request_post(session, stored, Actor("ed", "editor"))
        session.get(DraftRow, stored.current_draft_id).text += " (tampered)"
        session.flush()
        with pytest.raises(ActionError, match="changed after it was approved"):
            request_post(session, stored, Actor("ann", "approver"))
        session.rollback()


def test_post_now_while_a_worker_holds_it_is_not_an_error(app, seed, as_role, row, shown):
    """The race the page cannot see: a worker claimed the reply between load and click."""
    review_id = seed()
    client = as_role("approver")
    client.post(f"/reviews/{review_id}/approve", data=shown(review_id))
    with app.app_context(), get_db().session() as session:
        session.get(ReviewRow, review_id).status = "posting"
    response = client.post(f"/reviews/{review_id}/post", data=shown(review_id))
    assert response.status_code == 302 and "ok=posting" in response.location
    with app.app_context(), get_db().session() as session:
        session.get(ReviewRow, review_id).status = "posted"
    late = client.post(f"/reviews/{review_id}/post", data=shown(review_id))
    assert late.status_code == 409 and "A posted review cannot be" in late.get_data(as_text=True)


def test_a_person_can_post_while_the_pipeline_is_paused(app, seed, as_role, row, shown, work,
                                                        platform):
    waiting, wanted = seed(), seed()
    with app.app_context(), get_db().session() as session:
        set_paused(session, True, "ops", "checking the new policy")
    client = as_role("approver")
    approved = client.post(f"/reviews/{waiting}/approve", data=shown(waiting))
    assert "ok=approved_paused" in approved.location
    assert "Posting is paused" in client.get(approved.location).get_data(as_text=True)
    client.post(f"/reviews/{wanted}/approve", data=shown(wanted, post="1"))
    work(platform)
    assert row(waiting).status == "approved" and row(wanted).status == "posted"
    assert len(platform.posts) == 1


def test_messages_are_one_per_outcome(seed, as_role, shown):
    review_id = seed()
    client = as_role("approver")
    response = client.post(f"/reviews/{review_id}/approve", data=shown(review_id))
    html = client.get(response.location).get_data(as_text=True)
    assert "Approved. A worker posts it on its next pass." in html
    assert "could not take the reply" not in html


def test_editing_after_approval_withdraws_it(seed, as_role, row, shown):
    review_id = seed()
    as_role("approver").post(f"/reviews/{review_id}/approve", data=shown(review_id))
    assert row(review_id).status == "approved"
    as_role("editor").post(f"/reviews/{review_id}/save",
                           data=shown(review_id, text="We are sorry the cake was damaged. Maya"))
    edited = row(review_id)
    assert edited.status == "drafted" and edited.approved_text_hash is None


def test_save_rechecks_and_history_shows_the_diff(app, seed, as_role, row, shown):
    review_id = seed()
    client = as_role("editor")
    saved = client.post(f"/reviews/{review_id}/save",
                        data=shown(review_id, text="We are so sorry, Jane.\r\nMaya, Harbour Lane",
                                   offer="replace_item"))
    html = client.get(saved.location).get_data(as_text=True)
    assert "<ins>" in html and "<del>" in html and "v2</strong> by editor" in html
    assert "Passes every policy check" in html and "it passes every check" in html
    assert "Draft v2 by editor" in html  # the status line names the latest version
    with app.app_context(), get_db().session() as session:
        stored = session.get(DraftRow, session.get(ReviewRow, review_id).current_draft_id)
    assert stored.text == "We are so sorry, Jane.\nMaya, Harbour Lane"
    assert stored.offer_id == "replace_item" and stored.created_by == "editor"
    bad = client.post(f"/reviews/{review_id}/save",
                      data=shown(review_id, text="Sorry!", offer="goodwill_voucher_xx"))
    assert bad.status_code == 422 and "not allowed" in bad.get_data(as_text=True)
    assert "Sorry!" in bad.get_data(as_text=True)  # the unsaved text stays in the editor


def test_a_save_with_problems_says_so_and_never_shows_a_clean_bill(seed, as_role, shown):
    review_id = seed()
    client = as_role("editor")
    saved = client.post(f"/reviews/{review_id}/save",
                        data=shown(review_id, text="Sorry! Have €40 back, mail me@else.example"))
    html = client.get(saved.location).get_data(as_text=True)
    assert "Draft saved, but the checks found problems" in html and "alert-warn" in html
    assert "Draft saved and checked" not in html and 'id="checks-ok"' not in html


def test_an_offer_no_longer_allowed_is_a_concern_not_a_pass(app, seed, as_role, shown):
    """Saved while allowed; the review changed so it no longer is: the page says so."""
    review_id = seed()
    client = as_role("editor")
    client.post(f"/reviews/{review_id}/save",
                data=shown(review_id, text="We are sorry, Jane. Maya", offer="replace_item"))
    with app.app_context(), get_db().session() as session:
        session.get(ReviewRow, review_id).rating = 5
    html = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "(not allowed here)" in html
    assert 'id="checks-ok"' not in html and "not allowed for this review" in html


def test_skip_escalate_unapprove_and_regenerate(seed, as_role, row, shown):
    review_id = seed()
    editor, approver = as_role("editor"), as_role("approver")
    assert editor.post(f"/reviews/{review_id}/skip", data={"reason": ""}).status_code == 422
    editor.post(f"/reviews/{review_id}/regenerate", data={"instruction": "shorter"})
    html = editor.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "asked: “shorter”" in html
    approver.post(f"/reviews/{review_id}/approve", data=shown(review_id))
    approver.post(f"/reviews/{review_id}/unapprove", data=shown(review_id))
    assert row(review_id).status == "drafted"
    editor.post(f"/reviews/{review_id}/escalate", data={"reason": "Mentions a journalist"})
    assert row(review_id).status == "needs_attention" and row(review_id).escalated
    editor.post(f"/reviews/{review_id}/skip", data={"reason": "Handled by phone"})
    assert row(review_id).status == "skipped"
    again = editor.post(f"/reviews/{review_id}/skip", data={"reason": "twice"})
    assert again.status_code == 409


def test_withdrawing_an_approval_keeps_an_edit_on_screen(app, seed, as_role, row, shown):
    review_id = seed()
    client = as_role("approver")
    client.post(f"/reviews/{review_id}/approve", data=shown(review_id))
    withdrawn = client.post(f"/reviews/{review_id}/unapprove",
                            data=shown(review_id, text="Sorry, Jane. A new cake is on us. Maya"))
    assert "ok=unapproved_saved" in withdrawn.location
    current = row(review_id)
    assert current.status == "drafted" and current.approved_text_hash is None
    with app.app_context(), get_db().session() as session:
        assert session.get(DraftRow, current.current_draft_id).text == \
            "Sorry, Jane. A new cake is on us. Maya"


def test_read_only_source_offers_copy_instead_of_post(seed, as_role):
    review_id = seed(answerable=False, source="app-store-feed")
    html = as_role("approver").get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "Copy reply" in html and "Approve and post" not in html


def test_review_without_a_source_cannot_be_posted(seed, as_role, row, shown):
    review_id = seed(source="")
    response = as_role("approver").post(f"/reviews/{review_id}/approve",
                                        data=shown(review_id, post="1"))
    assert response.status_code == 422 and "not configured" in \
        response.get_data(as_text=True)
    assert row(review_id).status == "drafted"


def bulk_items(html: str) -> list[str]:
    return re.findall(r'name="items" value="([0-9]+:[0-9]+)"', html)


def test_bulk_approve_and_post_asks_once_with_exactly_what_will_be_published(
        app, seed, as_role, row, platform, work):
    clean, other = seed(), seed(text="The bread was stale and the shop was cold.")
    flagged = seed(draft_text="Sorry! Have €40 back.")
    escalated = seed(text="I was injured by glass in my sandwich.")
    client = as_role("approver")
    preview = client.post("/queue/bulk", data={
        "action": "approve_post", "ids": [str(i) for i in (clean, other, flagged, escalated)]})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "will be published as shown" in html
    assert re.search(r'id="publish-count">2<', html) and "Publish these 2" in html
    with app.app_context(), get_db().session() as session:
        texts = {rid: session.get(DraftRow, session.get(ReviewRow, rid).current_draft_id).text
                 for rid in (clean, other)}
    for text in texts.values():
        assert text.replace("'", "&#39;") in html  # in full, never cut off
    assert "Approval needs a written reason" in text_of(html, 'id="left-behind"')
    # Nothing happened yet, even with a worker running.
    work(platform)
    assert {row(i).status for i in (clean, other)} == {"drafted"} and platform.posts == []

    result = client.post("/queue/bulk/confirm", data={"action": "approve_post",
                                                      "items": bulk_items(html)})
    page = result.get_data(as_text=True)
    assert result.status_code == 200 and "2 done, 0 left behind" in page
    assert "data-follow-many" in page
    status = client.get(re.search(r'data-follow-many="([^"]+)"', page).group(1)
                        .replace("&amp;", "&")).get_json()
    assert status["done"] is False
    work(platform)
    assert sorted(platform.posts) == sorted(texts.values())
    assert row(flagged).status == "needs_attention" and row(escalated).status == "needs_attention"
    status = client.get(f"/queue/status?ids={clean},{other}").get_json()
    assert status["done"] and {r["status"] for r in status["reviews"]} == {"posted"}


def test_bulk_confirm_leaves_behind_a_reply_changed_after_the_list(app, seed, as_role, row,
                                                                   shown, work, platform):
    first, second = seed(), seed()
    client = as_role("approver")
    html = client.post("/queue/bulk", data={"action": "approve_post",
                                            "ids": [str(first), str(second)]}).get_data(
        as_text=True)
    as_role("editor").post(f"/reviews/{second}/save",
                           data=shown(second, text="Changed after the list. Sorry! Maya"))
    page = client.post("/queue/bulk/confirm", data={"action": "approve_post",
                                                    "items": bulk_items(html)}).get_data(
        as_text=True)
    assert "1 done, 1 left behind" in page and "changed after the list was shown" in page
    work(platform)
    assert row(first).status == "posted" and row(second).status == "drafted"
    assert len(platform.posts) == 1


def test_bulk_approve_also_asks_first(seed, as_role, row):
    review_id = seed()
    client = as_role("approver")
    html = client.post("/queue/bulk", data={"action": "approve", "ids": [str(review_id)]}
                       ).get_data(as_text=True)
    assert "Approve these 1" in html and row(review_id).status == "drafted"
    client.post("/queue/bulk/confirm", data={"action": "approve", "items": bulk_items(html)})
    assert row(review_id).status == "approved"


def test_bulk_roles_and_skip_reason(seed, as_role, row):
    first, second = seed(), seed()
    editor = as_role("editor")
    assert editor.post("/queue/bulk", data={"action": "approve", "ids": [str(first)]}
                       ).status_code == 403
    assert editor.post("/queue/bulk/confirm", data={"action": "approve",
                                                    "items": [f"{first}:1"]}).status_code == 403
    assert editor.post("/queue/bulk", data={"action": "skip", "ids": [str(first)]}
                       ).status_code == 422
    done = editor.post("/queue/bulk", data={"action": "skip", "reason": "Duplicates",
                                            "ids": [str(first), str(second)]})
    assert "2 done, 0 left behind" in done.get_data(as_text=True)
    assert row(first).status == row(second).status == "skipped"
    assert as_role("viewer").post("/queue/bulk", data={"action": "skip", "reason": "x",
                                                       "ids": [str(first)]}).status_code == 403


def test_a_review_edited_by_the_customer_while_posting_says_posted_and_why_it_is_back(
        app, seed, as_role, row, platform, shown, work):
    review_id = seed()
    client = as_role("approver")
    response = client.post(f"/reviews/{review_id}/approve", data=shown(review_id, post="1"))

    class EditsWhilePosting(Recording):
        def post_reply(self, review, text):
            with app.app_context(), get_db().session() as session:
                session.get(ReviewRow, review_id).content_hash = "edited by the customer"
            return super().post_reply(review, text)

    double = EditsWhilePosting()
    work(double)
    assert row(review_id).status == "needs_attention" and len(double.posts) == 1
    html = client.get(response.location).get_data(as_text=True)
    assert "Posted, but the customer changed the review meanwhile" in html
    assert "Not posted" not in html
