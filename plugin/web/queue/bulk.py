"""Bulk approve, approve-and-post and skip.

Each review goes through the same action as on its own page, in its own transaction, so one
refusal leaves the others done. Bulk approval never overrides: anything with a guardrail
violation, an escalation or a manager-only offer stays behind with the reason shown.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ... import actions
from ...actions import ActionError
from ...inputs import parse_ids
from ...app import db_session, get_policy
from ...store import states
from ...store.models import ReviewRow
from ..auth import role_required, safe_next
from . import bp
from .review import post_now

BULK_ACTIONS = {"approve": "approver", "approve_post": "approver", "skip": "editor"}
GOAL = {"approve": states.APPROVED, "approve_post": states.POSTED, "skip": states.SKIPPED}
MAX_BULK = 200


@dataclass(frozen=True)
class Outcome:
    row: ReviewRow
    done: bool
    message: str


@bp.route("/queue/bulk", methods=["POST"])
@role_required("editor")
def bulk():
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS:
        abort(400, "Choose approve, approve and post, or skip.")
    if not current_user.can(BULK_ACTIONS[action]):
        abort(403, f"This needs the {BULK_ACTIONS[action]} role; you are {current_user.role}.")
    ids = parse_ids(request.form.getlist("ids"))[:MAX_BULK]
    reason = request.form.get("reason", "").strip()[:1000]
    back = safe_next(request.form.get("back"), url_for("queue.index"))
    if action == "skip" and not reason:
        return render_template("bulk.html", outcomes=[], action=action, back=back,
                               error="Skipping needs a reason."), 422
    db = db_session()
    actor = current_user.actor
    rows = list(db.scalars(select(ReviewRow).where(ReviewRow.id.in_(ids)).order_by(ReviewRow.id)))
    outcomes: list[Outcome] = []
    for row in rows:
        try:
            if action == "skip":
                actions.skip(db, row, actor, reason)
                message = "Skipped."
            else:
                actions.approve(db, row, get_policy(), actor)
                message = "Approved."
                if action == "approve_post":
                    db.commit()
                    message = {
                        states.POSTED: "Posted.",
                        states.APPROVED: "Approved; the platform was busy, it will be retried.",
                        states.FAILED: "Approved, but the platform refused: "
                                       + (row.last_error or ""),
                        states.NEEDS_ATTENTION: "Approved, but not posted: the platform shows "
                                                "a reply we did not write.",
                    }[post_now(db, row, actor)]
            db.commit()
            outcomes.append(Outcome(row, row.status == GOAL[action], message))
        except (ActionError, states.TransitionError) as exc:
            db.rollback()
            outcomes.append(Outcome(db.get(ReviewRow, row.id) or row, False, str(exc)))
    return render_template("bulk.html", outcomes=outcomes, action=action, back=back, error=None)
