"""One review: what the customer wrote, the draft editor, the actions and the history.

Every action goes through `plugin.actions` (and posting through `plugin.posting`), so the rules
are the same as in the API and the CLI; this module only translates between forms and those
functions. The editor and every button that acts on the reply are one form, so whatever is on
screen travels with the click, together with the draft version it was based on: an edit is
saved and approved together, or refused with the person's text still in the editor. Success
redirects (so a reload never repeats an action) with a key naming the outcome; "Approve and
post" asks a worker to post and returns at once, and the page follows the post to its outcome.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import reply_length

from ... import actions, posting
from ...actions import UNCHANGED, ActionError, Actor
from ...context import connector_of, db_session, get_drafter, get_policy, get_translator
from ...inputs import parse_id
from ...pipeline.claims import normal_hash, public_reply_is_ours
from ...pipeline.control import is_paused
from ...store import states, teamwork
from ...store.models import AuditRow, DraftRow, ReviewRow, RevisionRow
from ...store.reviews import current_draft
from ..auth import role_required, safe_next
from ..flow import neighbours
from ..history import events, latest_edit, versions
from ..reading import reading
from . import bp
from .listing import assignable

OK, WARN, BAD = "ok", "warn", "error"
#: One message per outcome. A key names what happened, never a state another outcome shares.
MESSAGES: dict[str, tuple[str, str]] = {
    "saved": (OK, "Draft saved and checked: it passes every check."),
    "saved_issues": (WARN, "Draft saved, but the checks found problems (listed with the "
                           "reply). Fix them, or approve with a written reason."),
    "regenerated": (OK, "A new draft was written and checked: it passes every check."),
    "regenerated_issues": (WARN, "A new draft was written, but the checks found problems "
                                 "(listed with the reply)."),
    "approved": (OK, "Approved. A worker posts it on its next pass."),
    "approved_paused": (WARN, "Approved. Posting is paused, so it goes out when the pipeline "
                              "resumes; use “Post now” to post this one anyway."),
    "unapproved": (OK, "Approval withdrawn; the draft can be edited again."),
    "unapproved_saved": (OK, "Approval withdrawn and your edit saved as a new version."),
    "skipped": (OK, "Skipped. It leaves the open queue."),
    "escalated": (OK, "Escalated. It now needs an approver's attention."),
    "posting": (OK, "Posting… a worker is sending the reply; this page shows the outcome."),
    "posted": (OK, "Posted. The reply is public on the platform."),
    "posted_pending": (OK, "Posted. The platform accepted the reply and has not published it "
                           "yet; it is checked again until it does."),
    "posted_follow_up": (WARN, "Posted, but the customer changed the review meanwhile; it "
                               "needs a person's attention (see below)."),
    "post_retry": (WARN, "The platform could not take the reply just now; it stays approved "
                         "and is retried automatically. The platform's message is shown below."),
    "post_waiting": (WARN, "Waiting for the platform's quota; the reply stays approved and is "
                           "posted as soon as the quota allows."),
    "post_failed": (BAD, "The platform refused the reply. Its message is shown below."),
    "post_held": (BAD, "Not posted. It needs a person's attention; the reason is shown "
                       "below. Nothing was overwritten."),
    "post_stopped": (WARN, "Not posted: the reply is no longer approved."),
    "assigned": (OK, "Assigned. It shows under “Mine” for them."),
    "unassigned": (OK, "Unassigned. It shows under “Unassigned”."),
    "assign_unchanged": (OK, "Nothing to change: it was already so."),
    "noted": (OK, "Note added. Only the team sees it; it is never posted."),
    "follow_up": (OK, "A follow-up draft was written for the edited review and checked: it "
                      "passes every check. The earlier reply stays as it was until this one is "
                      "posted."),
    "follow_up_issues": (WARN, "A follow-up draft was written for the edited review, but the "
                               "checks found problems (listed with the reply)."),
}

#: What a follow-up draft is asked for; stored with the draft, so its history says why. Only
#: the stars go in, never the earlier wording: the drafter already reads the review as data,
#: and an instruction is trusted as the staff member's words.
FOLLOW_UP = ("Follow-up: the customer edited the review after our reply (now {now} stars, was "
             "{was}); acknowledge the update and answer what changed")


#: The same outcomes told on the next review's page, about the one just handled.
AFTER = {"approved": "approved; a worker posts it on its next pass.",
         "approved_paused": "approved; posting is paused, so it goes out when the pipeline "
                            "resumes.",
         "skipped": "skipped.", "escalated": "escalated."}


def load_row(db: Session, review_id: int) -> ReviewRow:
    row = db.get(ReviewRow, review_id)
    if row is None:
        abort(404, "There is no review with that number.")
    return row


def message_for(key: str | None) -> tuple[str, str] | None:
    return MESSAGES.get(key or "")


def render_review(db: Session, row: ReviewRow, *, error: str | None = None,
                  text: str | None = None, offer_id: str | None = None, status: int = 200,
                  note: str = ""):
    policy = get_policy(row)
    draft = current_draft(db, row)
    drafts = list(db.scalars(select(DraftRow).where(DraftRow.review_id == row.id)))
    audit = list(db.scalars(select(AuditRow).where(AuditRow.review_id == row.id)))
    revisions = list(db.scalars(select(RevisionRow).where(RevisionRow.review_id == row.id)))
    edit = latest_edit(row, revisions, drafts)
    editor_text = text if text is not None else (draft.text if draft else "")
    chosen = offer_id if offer_id is not None else (draft.offer_id if draft else None)
    used, limit, unit = reply_length(editor_text, row.platform)
    offers = policy.allowed_offers(row.rating, row.categories, row.escalated)
    current_offer = policy.offer(chosen) if chosen else None
    concerns = _concerns(db, row, editor_text, chosen) if draft or text is not None else []
    back = safe_next(request.values.get("back"), url_for("queue.index"))
    key = request.args.get("ok", "")
    follow = None
    after = parse_id(request.args.get("after"))
    if key == "posting" and after is None:
        state = posting.progress(row)
        key = state.outcome if state.done else key
        if not state.done:
            follow = url_for("queue.review_status", review_id=row.id, back=back)
    message = message_for(key)
    if after is not None and message is not None:
        # The outcome belongs to the review just handled, not to this one.
        message = (message[0], f"Review #{after}: {AFTER.get(key, message[1])}")
    reply_ours = public_reply_is_ours(db, row)
    replaceable = reply_ours is False and row.status != states.POSTED
    return render_template(
        "review.html", row=row, draft=draft, editor_text=editor_text, chosen_offer=chosen,
        offers=offers, current_offer=current_offer, used=used, limit=limit, unit=unit,
        concerns=concerns, versions=versions(drafts), events=events(audit), error=error,
        message=message, follow=follow, nav=neighbours(db, back, row, current_user.name),
        form=request.form,
        replaceable=replaceable,
        reply_hash=normal_hash(row.platform_reply or "") if replaceable else "",
        paused=is_paused(db), back=back,
        target_hours=policy.response_targets.get(row.rating, policy.response_target_hours),
        notes=teamwork.notes(db, row.id), note=note, people=assignable(db),
        snippets=teamwork.snippets(db, (draft.language if draft else None) or row.language
                                   or policy.default_language),
        editable=row.status in states.EDITABLE or row.status == states.APPROVED,
        edit=edit,
        reading=reading(db, row, draft, get_translator(), edit.before.text if edit else None),
        can_follow_up=bool(revisions) and row.status in states.EDITABLE | {states.APPROVED},
    ), status


def _concerns(db: Session, row: ReviewRow, text: str, offer_id: str | None) -> list[str]:
    """The checks of the text on screen, run now: what the page shows is what approval sees."""
    if not text.strip():
        return ["The reply is empty."]
    try:
        return actions.approval_concerns(db, row, get_policy(row), actions.plain_text(text),
                                         offer_id)[1]
    except ActionError as exc:
        return [str(exc)]


def _done(row: ReviewRow, key: str):
    back = safe_next(request.form.get("back"), "")
    if request.args.get("then") == "next":
        following = neighbours(db_session(), back, row, current_user.name).next
        if following is None:
            return redirect(back or url_for("queue.index"))
        params: dict[str, Any] = {"review_id": following, "ok": key, "after": row.id}
        if back:
            params["back"] = back
        return redirect(url_for("queue.review", **params))
    params = {"review_id": row.id, "ok": key}
    if back:
        params["back"] = back
    return redirect(url_for("queue.review", **params))


REFUSAL_STATUS = {"forbidden": 403, "draft_changed": 409, "invalid_state": 409,
                  "not_approved_text": 409, "public_reply_changed": 409}


def _act(review_id: int, action: Callable[[Session, ReviewRow, Actor], str]):
    """Run one action in a transaction; show its refusal on the page, never a stack trace."""
    db = db_session()
    row = load_row(db, review_id)
    try:
        key = action(db, row, current_user.actor)
        db.commit()
    except ActionError as exc:
        db.rollback()
        if exc.code == "forbidden":
            abort(403, str(exc))
        return render_review(db, load_row(db, review_id), error=str(exc),
                             text=request.form.get("text"), offer_id=request.form.get("offer"),
                             status=REFUSAL_STATUS.get(exc.code, 422))
    except states.TransitionError:
        db.rollback()
        return render_review(db, load_row(db, review_id), status=409,
                             text=request.form.get("text"), offer_id=request.form.get("offer"),
                             error="Someone else changed this review a moment ago. Here is "
                                   "how it stands now; your text is still in the editor. Check "
                                   "it and try again.")
    return _done(row, key)


def _version() -> int:
    """The draft version the page showed; a form without one cannot say what it approves."""
    version = parse_id(request.form.get("version"))
    if version is None:
        raise ActionError("draft_changed", "The form did not say which draft version you saw; "
                                           "reload the page and try again.")
    return version


def _offer(db: Session, row: ReviewRow):
    """The offer chosen on screen; UNCHANGED when the form had no offer field."""
    raw = request.form.get("offer")
    if raw is None:
        return UNCHANGED
    draft = current_draft(db, row)
    if raw and raw != (draft.offer_id if draft else None):
        allowed = {o.id for o in get_policy(row).allowed_offers(row.rating, row.categories,
                                                             row.escalated)}
        if raw not in allowed:
            raise ActionError("offer_not_allowed", "That offer is not allowed for this review.")
    return raw or None


def _checked(db: Session, row: ReviewRow, stored: DraftRow, good: str) -> str:
    """`good`, or `good_issues` when the saved text does not pass every check."""
    return f"{good}_issues" if _concerns(db, row, stored.text, stored.offer_id) else good


@bp.route("/reviews/<id:review_id>")
def review(review_id: int):
    db = db_session()
    return render_review(db, load_row(db, review_id))


@bp.route("/reviews/<id:review_id>/status")
def review_status(review_id: int):
    """Where the review stands, for the page that waits for a post's outcome."""
    db = db_session()
    row = load_row(db, review_id)
    state = posting.progress(row)
    back = safe_next(request.args.get("back"), "")
    params: dict[str, Any] = {"review_id": row.id, "ok": state.outcome if state.done else "posting"}
    if back:
        params["back"] = back
    return jsonify(id=row.id, status=row.status, done=state.done, outcome=state.outcome,
                   page=url_for("queue.review", **params))


@bp.route("/reviews/<id:review_id>/save", methods=["POST"])
@role_required("editor")
def save(review_id: int):
    def run(db: Session, row: ReviewRow, actor: Actor) -> str:
        stored = actions.save_as_seen(db, row, get_policy(row), actor, version=_version(),
                                      text=request.form.get("text", ""),
                                      offer_id=_offer(db, row))
        return _checked(db, row, stored, "saved")
    return _act(review_id, run)


def _redraft(review_id: int, instruction: Callable[[ReviewRow], str | None], good: str):
    """Write a new draft before the transaction that stores it (see `actions.prepare_redraft`),
    then store it like any other action."""
    db = db_session()
    row = load_row(db, review_id)
    if not current_user.can("editor") or row.status not in states.EDITABLE | {states.APPROVED}:
        # The action refuses these with its own words; nothing is worth a model call first.
        prepared = None
    else:
        wanted = instruction(row)
        review_policy = get_policy(row)
        db.commit()
        prepared = actions.prepare_redraft(row, review_policy, get_drafter(), wanted)

    def run(db: Session, row: ReviewRow, actor: Actor) -> str:
        stored = actions.regenerate(db, row, get_policy(row), actor, get_drafter(),
                                    instruction=instruction(row), prepared=prepared)
        return _checked(db, row, stored, good)
    return _act(review_id, run)


@bp.route("/reviews/<id:review_id>/regenerate", methods=["POST"])
@role_required("editor")
def regenerate(review_id: int):
    return _redraft(review_id,
                    lambda row: request.form.get("instruction", "").strip()[:300] or None,
                    "regenerated")


@bp.route("/reviews/<id:review_id>/follow-up", methods=["POST"])
@role_required("editor")
def follow_up(review_id: int):
    """A new draft for a review the customer edited, through the same drafter as any other;
    the reply they saw before stays on the page and in the history."""
    db = db_session()
    if not load_row(db, review_id).revisions:
        return render_review(db, load_row(db, review_id), status=409,
                             error="The customer has not edited this review, so there is "
                                   "nothing to follow up.")

    def instruction(row: ReviewRow) -> str:
        was = max(row.revisions, key=lambda revision: revision.id).rating
        return FOLLOW_UP.format(now=row.rating, was=was)
    return _redraft(review_id, instruction, "follow_up")


def _approve(db: Session, row: ReviewRow, actor: Actor, *, post: bool) -> str:
    """Save what is on screen if it changed, approve it, and with `post` ask for it to go out.

    Also how a failed post is retried and how an approved reply is posted now; replacing
    someone else's public reply takes the explicit "replace" box and a reason.
    """
    if post:
        connector_of(row)
    text = request.form.get("text")
    actions.approve_as_seen(db, row, get_policy(row), actor, version=_version(), text=text,
                            offer_id=_offer(db, row),
                            override_reason=request.form.get("override_reason", "")[:1000] or None)
    if not post:
        return "approved_paused" if is_paused(db) else "approved"
    replace = request.form.get("replace") == "1"
    posting.request_post(db, row, actor,
                         overwrite_reason=request.form.get("replace_reason", "") if replace
                         else None,
                         seen_reply_hash=request.form.get("replace_hash") or None)
    return "posting"


@bp.route("/reviews/<id:review_id>/approve", methods=["POST"])
@role_required("approver")
def approve(review_id: int):
    """Approve, and with `post=1` post straight away."""
    return _act(review_id, lambda db, row, actor: _approve(db, row, actor,
                                                           post=request.form.get("post") == "1"))


@bp.route("/reviews/<id:review_id>/post", methods=["POST"])
@role_required("approver")
def post(review_id: int):
    """Post an approved reply now (with the text on screen, approved again if it changed)."""
    return _act(review_id, lambda db, row, actor: _approve(db, row, actor, post=True))


def _with_reason(action, done: str):
    """An action that takes the form's written reason (capped), reported as `done`."""
    def run(db: Session, row: ReviewRow, actor: Actor) -> str:
        action(db, row, actor, request.form.get("reason", "")[:1000])
        return done
    return run


@bp.route("/reviews/<id:review_id>/unapprove", methods=["POST"])
@role_required("approver")
def unapprove(review_id: int):
    """Withdraw the approval; an edit on screen is saved with it (which withdraws it too)."""
    def run(db: Session, row: ReviewRow, actor: Actor) -> str:
        text = request.form.get("text")
        stored = current_draft(db, row)
        if text is not None and stored is not None \
                and actions.plain_text(text) != stored.text.strip():
            actions.save_as_seen(db, row, get_policy(row), actor, version=_version(), text=text,
                                 offer_id=_offer(db, row))
            return "unapproved_saved"
        actions.unapprove(db, row, actor, request.form.get("reason", "")[:1000])
        return "unapproved"
    return _act(review_id, run)


@bp.route("/reviews/<id:review_id>/skip", methods=["POST"])
@role_required("editor")
def skip(review_id: int):
    return _act(review_id, _with_reason(actions.skip, "skipped"))


@bp.route("/reviews/<id:review_id>/escalate", methods=["POST"])
@role_required("editor")
def escalate(review_id: int):
    return _act(review_id, _with_reason(actions.escalate, "escalated"))
