"""Posting an approved reply through the review's connector, without ever posting twice.

The order of steps follows the duplicate-reply rules: claim the row (approved -> posting) and
commit before any network call, so a crash leaves a visible `posting` row rather than a silent
second post; read the platform's current reply first and never overwrite one we did not write;
send exactly the approved bytes; record the outcome with one more state change.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Connector, PostedReply, reply_length
from connectors.errors import ConnectorError, RateLimited
from connectors.text import normalise_text

from .actions import ActionError, Actor, require
from .store import states
from .store.models import DraftRow, ReviewRow, utcnow
from .store.reviews import current_draft, text_hash, to_review

LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)


def _same(a: str, b: str) -> bool:
    """Platforms trim and re-normalise what they store; compare what a reader would see."""
    return normalise_text(a) == normalise_text(b)


def _backoff(row: ReviewRow, exc: ConnectorError) -> timedelta:
    if isinstance(exc, RateLimited) and exc.retry_after:
        wait = timedelta(seconds=exc.retry_after)
    else:
        wait = timedelta(minutes=2 ** min(row.attempts, 6))
    return min(wait, MAX_BACKOFF)


def _ours(session: Session, row: ReviewRow, text: str) -> bool:
    """Did any version of our draft for this review say exactly this?"""
    versions = session.scalars(select(DraftRow.text).where(DraftRow.review_id == row.id))
    return any(_same(text, version) for version in versions)


def post_review(session: Session, row: ReviewRow, connector: Connector, actor: Actor) -> str:
    """Post the approved reply of `row` and return the state it ends in.

    Commits twice: the claim before the platform is called, and the outcome after.
    """
    require(actor, "approver")
    if row.status != states.APPROVED:
        raise ActionError("invalid_state", f"A {row.status} review cannot be posted; approve it "
                                           "first.")
    draft = current_draft(session, row)
    if draft is None or row.approved_text_hash is None \
            or text_hash(draft.text) != row.approved_text_hash:
        raise ActionError("not_approved_text", "The reply changed after it was approved; approve "
                                               "it again before posting.")
    used, limit, unit = reply_length(draft.text, row.platform)
    if used > limit:
        raise ActionError("too_long", f"The reply is {used} {unit}; {row.platform} allows "
                                      f"{limit} {unit}.")
    review = to_review(row)
    states.transition(session, row, states.POSTING, actor=actor.name,
                      reason=f"Posting via {type(connector).__name__}",
                      claimed_by=actor.name, lease_until=utcnow() + LEASE)
    session.commit()
    attempts = row.attempts + 1
    try:
        existing = connector.get_reply(review)
        if existing is not None and existing.text.strip():
            if _same(existing.text, draft.text):
                return _posted(session, row, actor, existing, attempts,
                               "The platform already shows this reply; not posted again")
            if not _ours(session, row, existing.text):
                return _finish(session, row, states.NEEDS_ATTENTION, actor,
                               "The platform shows a different reply that we did not write; "
                               "it was not overwritten", platform_reply=existing.text,
                               platform_reply_at=existing.updated_at, attempts=attempts)
        result = connector.post_reply(review, draft.text)
    except ConnectorError as exc:
        message = exc.platform_message or str(exc)
        if exc.retryable:
            return _finish(session, row, states.APPROVED, actor, f"Will retry: {message}",
                           last_error=message, attempts=attempts,
                           next_attempt_at=utcnow() + _backoff(row, exc))
        return _finish(session, row, states.FAILED, actor, f"The platform refused: {message}",
                       last_error=message, attempts=attempts)
    except NotImplementedError as exc:
        return _finish(session, row, states.FAILED, actor, str(exc), last_error=str(exc),
                       attempts=attempts)
    return _posted(session, row, actor, result, attempts, "Posted")


def _posted(session: Session, row: ReviewRow, actor: Actor, reply: PostedReply, attempts: int,
            reason: str) -> str:
    return _finish(session, row, states.POSTED, actor, reason, post_state=reply.state,
                   posted_at=reply.updated_at or utcnow(), platform_reply=reply.text,
                   platform_reply_at=reply.updated_at or utcnow(), last_error=None,
                   next_attempt_at=None, attempts=attempts)


def _finish(session: Session, row: ReviewRow, to_state: str, actor: Actor, reason: str,
            **fields) -> str:
    states.transition(session, row, to_state, actor=actor.name, reason=reason,
                      claimed_by=None, lease_until=None, **fields)
    session.commit()
    return to_state
