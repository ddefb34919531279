"""The review state machine: the only code that changes `reviews.status`.

Every change is a compare-and-set (`UPDATE ... WHERE id = ? AND status = ?`), so two workers or
two people acting on the same review cannot both succeed, and every change writes an audit row
in the same transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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



_BATCH = "makeright.audit_batch"


@contextmanager
def audit_batch(session: Session) -> Iterator[None]:
    """The audit rows of the changes made in the block go in as one executemany at its end.

    Each audit row is otherwise an INSERT of its own when the session flushes (on SQLite the
    ORM inserts rows one by one whenever it must read their ids back, and audit ids are never
    read). Nothing in the block may read the audit log for the rows it writes; a block that
    raises writes none of them, and the transaction is rolled back anyway.
    """
    if _BATCH in session.info:
        yield
        return
    rows: list[dict[str, Any]] = []
    session.info[_BATCH] = rows
    try:
        yield
    finally:
        del session.info[_BATCH]
    if rows:
        session.execute(insert(cast(Table, AuditRow.__table__)), rows)


def _audit(session: Session, **values: Any) -> None:
    batch = session.info.get(_BATCH)
    if batch is None:
        session.add(AuditRow(**values))
    else:
        batch.append(values)


def can_move(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def _move(which: str, from_state: str, to_state: str, reason: str,
          fields: dict[str, Any]) -> tuple[datetime, dict[str, Any]]:
    """The moment and the column values of a move the state machine allows; an approval's
    fields are cleared on every move but to approved and posting, so they never outlive it."""
    if to_state not in STATES:
        raise TransitionError(f"unknown state {to_state!r}")
    if not can_move(from_state, to_state):
        raise TransitionError(f"{which}cannot go from {from_state} to {to_state}")
    now: datetime = utcnow()
    values = {"status": to_state, "status_reason": reason, "status_changed_at": now, **fields}
    if to_state not in (APPROVED, POSTING):
        values = {**APPROVAL_SCOPED, **values}
    return now, values


def transition(session: Session, review: ReviewRow, to_state: str, *, actor: str,
               reason: str = "", expected: str | None = None, flush: bool = True,
               **fields) -> None:
    """Move a review to `to_state` if it is still in `expected` (default: its loaded state).

    Extra keyword arguments are column values written in the same UPDATE (approval, lease and
    posting fields), so the state and what it means change together.
    """
    from_state = expected or review.status
    now, values = _move(f"review {review.id}: ", from_state, to_state, reason, fields)
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
    _audit(session, review_id=review.id, actor=actor, action="transition",
           from_state=from_state, to_state=to_state, reason=reason, at=now)
    _notify(session, [Change(review, "transition", from_state, to_state)])
    if flush:
        session.flush()


def transition_claimed(session: Session, review_id: int, to_state: str, *, actor: str,
                       expected: str, holder: str, reason: str = "",
                       note: tuple[str, str] | None = None, **fields) -> ReviewRow | None:
    """`transition` of a review this worker holds a claim on, fenced by that claim, in one
    statement: `UPDATE ... WHERE id = ? AND status = ? AND claimed_by = ? RETURNING *`.

    None, and nothing written, when the claim is no longer ours (the reaper took it over, or a
    person acted). `note` (action, reason) is audited first, as happening in `expected`. The
    audit rows are flushed with the transaction's next statement, not on their own.
    """
    now, values = _move(f"review {review_id}: ", expected, to_state, reason, fields)
    review = session.scalars(
        update(ReviewRow)
        .where(ReviewRow.id == review_id, ReviewRow.status == expected,
               ReviewRow.claimed_by == holder)
        .values(**values)
        .returning(ReviewRow)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).first()
    if review is None:
        return None
    changes = []
    if note is not None:
        _audit(session, review_id=review_id, actor=actor, action=note[0], reason=note[1],
               from_state=expected, to_state=expected, at=now)
        changes.append(Change(review, note[0], expected, expected))
    _audit(session, review_id=review_id, actor=actor, action="transition",
           from_state=expected, to_state=to_state, reason=reason, at=now)
    changes.append(Change(review, "transition", expected, to_state))
    _notify(session, changes)
    return review


def transition_many(session: Session, reviews: Sequence[ReviewRow], to_state: str, *,
                    actor: str, expected: str, reason: str = "", **fields) -> None:
    """`transition` for reviews that all move alike (a batch of claims): one compare-and-set
    UPDATE for the lot and one executemany of their audit rows, instead of two statements each.

    The rows must be held by this transaction (locked, or SQLite's write lock): a row that
    moved meanwhile fails the whole batch with `ConcurrentChange`.
    """
    if not reviews:
        return
    now, values = _move("", expected, to_state, reason, fields)
    ids = [review.id for review in reviews]
    result = cast(CursorResult[Any], session.execute(
        update(ReviewRow)
        .where(ReviewRow.id.in_(ids), ReviewRow.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount != len(ids):
        raise ConcurrentChange(f"{len(ids) - result.rowcount} of reviews {ids} left {expected}")
    for review in reviews:
        for key, value in values.items():
            set_committed_value(review, key, value)
    session.execute(insert(cast(Table, AuditRow.__table__)), [
        {"review_id": review_id, "actor": actor, "action": "transition", "reason": reason,
         "from_state": expected, "to_state": to_state, "at": now} for review_id in ids])
    _notify(session, [Change(review, "transition", expected, to_state) for review in reviews])


def record(session: Session, review: ReviewRow | None, *, actor: str, action: str,
           reason: str = "") -> None:
    """An audit row for something that is not a state change (an edit, an import)."""
    _audit(session, review_id=review.id if review else None, actor=actor, action=action,
           reason=reason, from_state=review.status if review else None,
           to_state=review.status if review else None, at=utcnow())
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
