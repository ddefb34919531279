"""One review: what the customer wrote, the draft editor, the actions and the history.

Every action goes through `plugin.actions` (and posting through `plugin.posting`), so the rules
are the same as in the API and the CLI; this module only translates between forms and those
functions. Success redirects (so a reload never repeats an action) with a fixed message key;
a refusal re-renders the page with the person's unsaved text still in the editor.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import reply_length

from ... import actions
from ...actions import ActionError, Actor
from ...app import db_session, get_connector_for, get_db, get_drafter, get_policy
from ...posting import post_review
from ...store import states
from ...store.models import AuditRow, DraftRow, ReviewRow
from ...store.reviews import current_draft
from ..auth import role_required, safe_next
from ..history import events, versions
from . import bp

MESSAGES = {
    "saved": "Draft saved and checked again.",
    "regenerated": "A new draft was written and checked.",
    "approved": "Approved. It can be posted now.",
    "unapproved": "Approval withdrawn; the draft can be edited again.",
    "skipped": "Skipped. It leaves the open queue.",
    "escalated": "Escalated. It now needs an approver's attention.",
    states.POSTED: "Posted. The reply is public on the platform.",
    states.APPROVED: "The platform could not take the reply just now; it stays approved and "
                     "will be retried. The platform's message is shown below.",
    states.FAILED: "The platform refused the reply. Its message is shown below.",
    states.NEEDS_ATTENTION: "Not posted: the platform already shows a different reply that we "
                            "did not write. Nothing was overwritten.",
}


def load_row(db: Session, review_id: int) -> ReviewRow:
    row = db.get(ReviewRow, review_id)
    if row is None:
        abort(404, "There is no review with that number.")
    return row


def render_review(db: Session, row: ReviewRow, *, error: str | None = None,
                  text: str | None = None, offer_id: str | None = None, status: int = 200):
    policy = get_policy()
    draft = current_draft(db, row)
    drafts = list(db.scalars(select(DraftRow).where(DraftRow.review_id == row.id)))
    audit = list(db.scalars(select(AuditRow).where(AuditRow.review_id == row.id)))
    editor_text = text if text is not None else (draft.text if draft else "")
    chosen = offer_id if offer_id is not None else (draft.offer_id if draft else None)
    used, limit, unit = reply_length(editor_text, row.platform)
    offer = policy.offer(draft.offer_id) if draft else None
    concerns = [v["message"] for v in (draft.violations if draft else [])]
    if row.escalated:
        concerns.append("The review is escalated: " + ", ".join(row.escalation_reasons) + ".")
    if offer is not None and offer.manager_approval:
        concerns.append(f"The offer “{offer.label}” needs a manager's approval.")
    return render_template(
        "review.html", row=row, draft=draft, editor_text=editor_text, chosen_offer=chosen,
        offers=policy.allowed_offers(row.rating, row.categories, row.escalated),
        current_offer=offer, used=used, limit=limit, unit=unit, concerns=concerns,
        versions=versions(drafts), events=events(audit), error=error,
        message=MESSAGES.get(request.args.get("ok", "")),
        target_hours=policy.response_target_hours,
        back=safe_next(request.values.get("back"), url_for("queue.index")),
        editable=row.status in states.EDITABLE or row.status == states.APPROVED,
    ), status


def _done(row: ReviewRow, key: str):
    back = safe_next(request.form.get("back"), "")
    params = {"review_id": row.id, "ok": key}
    if back:
        params["back"] = back
    return redirect(url_for("queue.review", **params))


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
                             status=409 if exc.code == "invalid_state" else 422)
    except states.TransitionError:
        db.rollback()
        return render_review(db, load_row(db, review_id), status=409,
                             error="Someone else changed this review a moment ago. Here is "
                                   "how it stands now; check it and try again.")
    return _done(row, key)


def post_now(db: Session, row: ReviewRow, actor: Actor) -> str:
    connector = get_connector_for()(row)
    return post_review(get_db(), db, row, connector, actor)


@bp.route("/reviews/<id:review_id>")
def review(review_id: int):
    db = db_session()
    return render_review(db, load_row(db, review_id))


@bp.route("/reviews/<id:review_id>/save", methods=["POST"])
@role_required("editor")
def save(review_id: int):
    def run(db: Session, row: ReviewRow, actor: Actor) -> str:
        offer_id = request.form.get("offer") or None
        allowed = {o.id for o in get_policy().allowed_offers(row.rating, row.categories,
                                                             row.escalated)}
        if offer_id and offer_id not in allowed:
            raise ActionError("offer_not_allowed", "That offer is not allowed for this review.")
        # Browsers send textarea line breaks as CRLF; the platforms and the counter use LF.
        text = request.form.get("text", "").replace("\r\n", "\n")
        if not text.strip():
            raise ActionError("empty", "The reply is empty.")
        actions.edit_draft(db, row, get_policy(), actor, text, offer_id)
        return "saved"
    return _act(review_id, run)


@bp.route("/reviews/<id:review_id>/regenerate", methods=["POST"])
@role_required("editor")
def regenerate(review_id: int):
    def run(db: Session, row: ReviewRow, actor: Actor) -> str:
        instruction = request.form.get("instruction", "").strip()[:300] or None
        actions.regenerate(db, row, get_policy(), actor, get_drafter(),
                           instruction=instruction)
        return "regenerated"
    return _act(review_id, run)


@bp.route("/reviews/<id:review_id>/approve", methods=["POST"])
@role_required("approver")
def approve(review_id: int):
    """Approve, and with `post=1` post straight away (also how a failed post is retried)."""
    def run(db: Session, row: ReviewRow, actor: Actor) -> str:
        posting = request.form.get("post") == "1"
        if posting:
            get_connector_for()(row)
        actions.approve(db, row, get_policy(), actor,
                        override_reason=request.form.get("override_reason", "")[:1000] or None)
        if not posting:
            return "approved"
        db.commit()
        return post_now(db, row, actor)
    return _act(review_id, run)


@bp.route("/reviews/<id:review_id>/post", methods=["POST"])
@role_required("approver")
def post(review_id: int):
    return _act(review_id, post_now)


def _with_reason(action, done: str):
    """An action that takes the form's written reason (capped), reported as `done`."""
    def run(db: Session, row: ReviewRow, actor: Actor) -> str:
        action(db, row, actor, request.form.get("reason", "")[:1000])
        return done
    return run


@bp.route("/reviews/<id:review_id>/unapprove", methods=["POST"])
@role_required("approver")
def unapprove(review_id: int):
    return _act(review_id, _with_reason(actions.unapprove, "unapproved"))


@bp.route("/reviews/<id:review_id>/skip", methods=["POST"])
@role_required("editor")
def skip(review_id: int):
    return _act(review_id, _with_reason(actions.skip, "skipped"))


@bp.route("/reviews/<id:review_id>/escalate", methods=["POST"])
@role_required("editor")
def escalate(review_id: int):
    return _act(review_id, _with_reason(actions.escalate, "escalated"))
