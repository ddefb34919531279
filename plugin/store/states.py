"""The review state machine: the only code that changes `reviews.status`.

Every change is a compare-and-set (`UPDATE ... WHERE id = ? AND status = ?`), so two workers or
two people acting on the same review cannot both succeed, and every change writes an audit row
in the same transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..errors import MakeRightError
from .models import AuditRow, ReviewRow, utcnow

NEW, DRAFTED, DRAFT_FAILED, NEEDS_ATTENTION = "new", "drafted", "draft_failed", "needs_attention"
APPROVED, POSTING, POSTED, FAILED, SKIPPED = "approved", "posting", "posted", "failed", "skipped"

STATES = (NEW, DRAFTED, DRAFT_FAILED, NEEDS_ATTENTION, APPROVED, POSTING, POSTED, FAILED, SKIPPED)

# Allowed moves. Anything else is refused, including a move to the same state.
TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({DRAFTED, DRAFT_FAILED, NEEDS_ATTENTION, SKIPPED}),
    DRAFTED: frozenset({NEW, APPROVED, NEEDS_ATTENTION, SKIPPED, DRAFT_FAILED}),
    DRAFT_FAILED: frozenset({NEW, DRAFTED, NEEDS_ATTENTION, SKIPPED}),
    NEEDS_ATTENTION: frozenset({NEW, DRAFTED, APPROVED, SKIPPED, DRAFT_FAILED}),
    # An approval is withdrawn by a person (back to drafted) or invalidated by an edit.
    APPROVED: frozenset({DRAFTED, POSTING, NEEDS_ATTENTION, SKIPPED}),
    # A claim ends in posted, failed, a retry (approved), or a person's attention.
    POSTING: frozenset({POSTED, FAILED, APPROVED, NEEDS_ATTENTION}),
    FAILED: frozenset({APPROVED, DRAFTED, NEEDS_ATTENTION, SKIPPED}),
    # A posted review comes back only when the customer edits it after our reply.
    POSTED: frozenset({NEEDS_ATTENTION}),
    SKIPPED: frozenset({NEW, DRAFTED}),
}

# States in which a person can still change the draft.
EDITABLE = frozenset({NEW, DRAFTED, DRAFT_FAILED, NEEDS_ATTENTION, FAILED})

# A request to post now and a permission to replace someone else's reply are given for one
# approval; every move out of approved/posting ends them, so neither outlives what it was for.
APPROVAL_SCOPED = {"post_requested_by": None, "post_requested_at": None, "overwrite_by": None,
                   "overwrite_reason": None, "overwrite_reply_hash": None}


@dataclass(frozen=True)
class Change:
    """One audited change of a review, as listeners are told of it.

    A batch recorded at once may give a way to load the row instead of the row: a listener
    that has nothing to do with the changes never makes it read back.
    """

    subject: ReviewRow | Callable[[], ReviewRow]
    action: str
    from_state: str | None
    to_state: str | None

    @property
    def review(self) -> ReviewRow:
        return self.subject if isinstance(self.subject, ReviewRow) else self.subject()


# Called after every transition and audit record, inside the same transaction, with the
# session and the changes: one, or all of a batch recorded at once, so a listener can look up
# what it needs once for the lot. Features that react to changes (outbound events) register
# here instead of every caller learning about them.
Listener = Callable[[Session, Sequence[Change]], None]
LISTENERS: list[Listener] = []


def _notify(session: Session, changes: Sequence[Change]) -> None:
    for listener in LISTENERS:
        listener(session, changes)


class TransitionError(MakeRightError):
    """A move the state machine does not allow."""

    code = "invalid_state"
    status = 409



class ConcurrentChange(TransitionError):
    """The review changed state under us; someone else acted first."""

    code = "concurrent_change"



def can_move(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def transition(session: Session, review: ReviewRow, to_state: str, *, actor: str,
               reason: str = "", expected: str | None = None, **fields) -> None:
    """Move a review to `to_state` if it is still in `expected` (default: its loaded state).

    Extra keyword arguments are column values written in the same UPDATE (approval, lease and
    posting fields), so the state and what it means change together.
    """
    from_state = expected or review.status
    if to_state not in STATES:
        raise TransitionError(f"unknown state {to_state!r}")
    if not can_move(from_state, to_state):
        raise TransitionError(f"review {review.id}: cannot go from {from_state} to {to_state}")
    now: datetime = utcnow()
    values = {"status": to_state, "status_reason": reason, "status_changed_at": now, **fields}
    if to_state not in (APPROVED, POSTING):
        values = {**APPROVAL_SCOPED, **values}
    result = cast(CursorResult[Any], session.execute(
        update(ReviewRow)
        .where(ReviewRow.id == review.id, ReviewRow.status == from_state)
        .values(**values)
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount != 1:
        session.refresh(review)
        raise ConcurrentChange(f"review {review.id} is {review.status}, not {from_state}")
    for key, value in values.items():
        set_committed_value(review, key, value)
    session.add(AuditRow(review_id=review.id, actor=actor, action="transition",
                         from_state=from_state, to_state=to_state, reason=reason, at=now))
    _notify(session, [Change(review, "transition", from_state, to_state)])
    session.flush()


def record(session: Session, review: ReviewRow | None, *, actor: str, action: str,
           reason: str = "") -> None:
    """An audit row for something that is not a state change (an edit, an import)."""
    session.add(AuditRow(review_id=review.id if review else None, actor=actor, action=action,
                         reason=reason, from_state=review.status if review else None,
                         to_state=review.status if review else None))
    if review is not None:
        _notify(session, [Change(review, action, review.status, review.status)])


def record_many(session: Session, reviews: Mapping[int, Callable[[], ReviewRow]], *,
                status: str, actor: str, action: str, reason: str = "") -> None:
    """`record` for many reviews in `status` (a batch just stored), given as their ids and a
    way to load each row: the audit rows go in as one executemany and listeners hear of them
    all at once, instead of a statement or two each."""
    if not reviews:
        return
    session.execute(insert(cast(Table, AuditRow.__table__)), [
        {"review_id": review_id, "actor": actor, "action": action, "reason": reason,
         "from_state": status, "to_state": status} for review_id in reviews])
    _notify(session, [Change(load, action, status, status) for load in reviews.values()])
