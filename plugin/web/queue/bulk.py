"""Bulk approve, approve-and-post and skip.

Approving in bulk publishes (a worker posts approved replies), so it never happens on the first
click: the queue's button leads to a page listing exactly what would be published, every reply
in full with its offer, and one confirmation publishes exactly that list. Each listed item
carries the draft it showed; at confirmation every item is checked again, and one whose reply
changed meanwhile is left behind rather than approved unseen.

Each review goes through the same action as on its own page, in its own transaction, so one
refusal leaves the others done. Bulk approval never overrides: anything with a guardrail
violation, an escalation, a manager-only offer or someone else's public reply stays behind with
the reason shown.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, jsonify, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import actions, posting
from ...actions import ActionError, Actor
from ...context import connector_of, db_session, get_policy
from ...inputs import parse_ids
from ...pipeline.claims import public_reply_is_ours
from ...store import states, teamwork
from ...store.models import DraftRow, ReviewRow
from ...store.reviews import current_draft
from ...store.teamwork import TeamworkError
from ..auth import role_required, safe_next
from ..templating import STATUS_LABELS
from . import bp
from .listing import assignee_from
from .review import MESSAGES

BULK_ACTIONS = {"approve": "approver", "approve_post": "approver", "skip": "editor",
                "assign": "editor"}
TITLES = {"approve": "Approve", "approve_post": "Approve and post", "skip": "Skip",
          "assign": "Assign"}
MAX_BULK = 200
APPROVABLE = (states.DRAFTED, states.NEEDS_ATTENTION, states.FAILED)


@dataclass(frozen=True)
class Outcome:
    row: ReviewRow
    done: bool
    message: str
    follow: bool = False


@dataclass(frozen=True)
class Candidate:
    """One selected review as the confirmation page shows it; `problem` keeps it out."""

    row: ReviewRow
    draft: DraftRow | None
    offer_label: str
    problem: str | None


def _action() -> str:
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS:
        abort(400, "Choose approve, approve and post, skip or assign.")
    if not current_user.can(BULK_ACTIONS[action]):
        abort(403, f"This needs the {BULK_ACTIONS[action]} role; you are {current_user.role}.")
    return action


def _back() -> str:
    return safe_next(request.form.get("back"), url_for("queue.index"))


def _rows(db: Session, ids: list[int]) -> list[ReviewRow]:
    return list(db.scalars(select(ReviewRow).where(ReviewRow.id.in_(ids)).order_by(ReviewRow.id)))


def _problem(db: Session, row: ReviewRow, draft: DraftRow | None, action: str) -> str | None:
    """Why a review cannot be approved (and posted) in bulk; None when it can."""
    if draft is None:
        return "It has no draft yet."
    if row.status not in APPROVABLE:
        return f"It is {STATUS_LABELS.get(row.status, row.status).lower()}, not waiting for " \
               "approval."
    if not row.answerable:
        return "Replies to this source cannot be posted here; copy the reply instead."
    blocking, concerns = actions.approval_concerns(db, row, get_policy(row), draft.text,
                                                   draft.offer_id, draft.engine)
    if blocking or concerns:
        return "Approval needs a written reason, given on its own page: " + \
            " ".join(blocking or concerns)
    if public_reply_is_ours(db, row) is False:
        return "Someone else's reply is public on the platform; replacing it is decided on " \
               "the review's own page."
    if action == "approve_post":
        try:
            connector_of(row)
        except ActionError as exc:
            return str(exc)
    return None


def _candidate(db: Session, row: ReviewRow, action: str) -> Candidate:
    draft = current_draft(db, row)
    label = "No offer"
    if draft is not None and draft.offer_id:
        offer = get_policy(row).offer(draft.offer_id)
        label = offer.label if offer else f"{draft.offer_id} (not in the policy)"
    try:
        problem = _problem(db, row, draft, action)
    except ActionError as exc:
        problem = str(exc)
    return Candidate(row, draft, label, problem)


@bp.route("/queue/bulk", methods=["POST"])
@role_required("editor")
def bulk():
    """Skip at once; for approval, show what would be published and ask once."""
    action = _action()
    ids = parse_ids(request.form.getlist("ids"))[:MAX_BULK]
    back = _back()
    db = db_session()
    if action == "skip":
        return _skip(db, ids, back)
    if action == "assign":
        return _assign(db, ids, back)
    candidates = [_candidate(db, row, action) for row in _rows(db, ids)]
    return render_template("bulk_confirm.html", action=action, title=TITLES[action], back=back,
                           ready=[c for c in candidates if c.problem is None],
                           held=[c for c in candidates if c.problem is not None])


def _skip(db: Session, ids: list[int], back: str):
    reason = request.form.get("reason", "").strip()[:1000]
    if not reason:
        return render_template("bulk.html", outcomes=[], title=TITLES["skip"], back=back,
                               error="Skipping needs a reason.", follow=None), 422
    def skip(row: ReviewRow, actor: Actor) -> str:
        actions.skip(db, row, actor, reason)
        return "Skipped."

    outcomes = [_one(db, row, skip, states.SKIPPED) for row in _rows(db, ids)]
    return render_template("bulk.html", outcomes=outcomes, title=TITLES["skip"], back=back,
                           error=None, follow=None)


def _one(db: Session, row: ReviewRow, act: Callable[[ReviewRow, Actor], str], goal: str,
         follow: bool = False) -> Outcome:
    """One review's action in its own transaction; a refusal is its outcome, not an error.

    `follow`: the action asked a worker to post, and the page follows the review's status.
    """
    try:
        message = act(row, current_user.actor)
        db.commit()
    except (ActionError, states.TransitionError) as exc:
        db.rollback()
        return Outcome(db.get(ReviewRow, row.id) or row, False, str(exc))
    return Outcome(row, row.status == goal, message, follow)


def _assign(db: Session, ids: list[int], back: str):
    """Give every selected review to one person (or to nobody), each audited on its own."""
    try:
        assignee = assignee_from(db, request.form.get("assignee"))
    except TeamworkError as exc:
        return render_template("bulk.html", outcomes=[], title=TITLES["assign"], back=back,
                               error=str(exc), follow=None), 422
    outcomes = []
    for row in _rows(db, ids):
        changed = teamwork.assign(db, row, assignee, actor=current_user.name)
        done = f"Assigned to {assignee}." if assignee else "Unassigned."
        outcomes.append(Outcome(row, True, done if changed else "Already so."))
    db.commit()
    return render_template("bulk.html", outcomes=outcomes, title=TITLES["assign"], back=back,
                           error=None, follow=None)


@bp.route("/queue/bulk/confirm", methods=["POST"])
@role_required("approver")
def confirm():
    """Approve (and ask to post) exactly the listed replies, each checked again now."""
    action = _action()
    if action not in ("approve", "approve_post"):
        abort(400, "Only approvals are confirmed.")
    listed: dict[int, int] = {}
    for item in request.form.getlist("items")[:MAX_BULK]:
        review_id, _, draft_id = item.partition(":")
        review, draft = parse_ids([review_id]), parse_ids([draft_id])
        if review and draft:
            listed[review[0]] = draft[0]
    db = db_session()

    def approve(row: ReviewRow, actor: Actor) -> str:
        actions.lock(db, row)
        if row.current_draft_id != listed[row.id]:
            raise ActionError("draft_changed", "The reply changed after the list was shown; "
                                               "nothing was approved. Open it to check.")
        draft = current_draft(db, row)
        problem = _problem(db, row, draft, action)
        if problem:
            raise ActionError("invalid_state", problem)
        actions.approve(db, row, get_policy(row), actor)
        if action == "approve":
            return "Approved."
        posting.request_post(db, row, actor)
        return MESSAGES["posting"][1]

    outcomes = [_one(db, row, approve, states.APPROVED, follow=action == "approve_post")
                for row in _rows(db, list(listed))]
    follow = [o.row.id for o in outcomes if o.follow]
    return render_template("bulk.html", outcomes=outcomes, title=TITLES[action], back=_back(),
                           error=None,
                           follow=url_for("queue.bulk_status", ids=",".join(map(str, follow)))
                           if follow else None)


@bp.route("/queue/status")
def bulk_status():
    """Where each of several reviews stands, for the bulk result page that follows posts."""
    ids = parse_ids(request.args.get("ids", "").split(","))[:MAX_BULK]
    db = db_session()
    answer = []
    for row in _rows(db, ids):
        state = posting.progress(row)
        answer.append({"id": row.id, "status": row.status,
                       "label": STATUS_LABELS.get(row.status, row.status), "done": state.done,
                       "message": MESSAGES[state.outcome][1]})
    return jsonify(reviews=answer, done=all(item["done"] for item in answer))
