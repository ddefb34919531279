"""The one place that writes replies to platforms.

Exactly once, as far as a platform without idempotency keys allows: the reply is claimed in one
short transaction, the platform is read before the write (our text there means it is already
posted; someone else's means a person decides), the write happens with no transaction open, and
the outcome is recorded in a second transaction fenced by the claim. Any write whose outcome is
unknown (timeout, reset, 5xx) is followed by a read before anything else is decided, and the
reaper does the same for a worker that died mid-post. The remaining window (the platform accepted,
we crashed before the commit) is closed by that read: the next look finds our text and records
it as posted without writing again.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.base import Connector, PostedReply
from connectors.errors import ConnectorError, RateLimited

from ..actions import Actor, require
from ..store import states
from ..store.db import Database
from ..store.models import ReviewRow, utcnow
from . import failpoints
from .claims import PostClaim, claim_review, normal_hash
from .config import PipelineSettings
from .logs import event
from .models import ReplyAttemptRow

PUBLISHED = "published"
LOST = "lost"
EMPTY, SAME, OURS_BEFORE, OTHER = "empty", "same", "ours_before", "other"


@dataclass(frozen=True)
class PostOutcome:
    """How one post ended: the review's new status (or `lost` if our claim was taken over)."""

    review_id: int
    status: str
    reason: str
    post_state: str | None = None
    wrote: bool = False


def judge(existing: PostedReply | None, claim: PostClaim) -> str:
    """What a reply found on the platform means for this claim."""
    if existing is None or not existing.text.strip():
        return EMPTY
    found = normal_hash(existing.text)
    if found == normal_hash(claim.text):
        return SAME
    return OURS_BEFORE if found in claim.ours else OTHER


def error_text(exc: Exception) -> str:
    """What a person should read: the platform's own words when it gave any."""
    return getattr(exc, "platform_message", None) or str(exc) or exc.__class__.__name__


def _lock(session: Session, review_id: int) -> ReviewRow | None:
    query = select(ReviewRow).where(ReviewRow.id == review_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def finish(db: Database, claim: PostClaim, to_state: str, reason: str, *, outcome: str,
           wrote: bool = False, **fields) -> PostOutcome:
    """Record how a claimed post ended, if the claim is still ours.

    The fence (status `posting` and `claimed_by` us) stops a worker whose lease ran out from
    overwriting what the reaper decided after reading the platform.
    """
    post_state = fields.get("post_state")
    with db.session() as session:
        row = _lock(session, claim.review_id)
        if row is None or row.status != states.POSTING or row.claimed_by != claim.worker:
            outcome, to_state = LOST, LOST
            reason = f"the claim was taken over ({row.status if row else 'deleted'})"
        else:
            states.transition(session, row, to_state, actor=claim.worker, reason=reason,
                              expected=states.POSTING, claimed_by=None, lease_until=None,
                              **fields)
            if to_state == states.POSTED and row.content_hash != claim.content_hash:
                states.transition(session, row, states.NEEDS_ATTENTION, actor=claim.worker,
                                  reason="The customer edited the review while our reply was "
                                         "being posted; consider a follow-up", follow_up=True)
        if claim.attempt_id is not None:
            session.execute(update(ReplyAttemptRow)
                            .where(ReplyAttemptRow.id == claim.attempt_id)
                            .values(outcome=outcome, finished_at=utcnow(), detail=reason[:2000]))
    level = logging.INFO if outcome in ("posted", "retry", "reaped") else logging.WARNING
    event("post." + outcome, level, review=claim.review_id, worker=claim.worker, status=to_state,
          wrote=wrote, post_state=post_state, reason=reason)
    return PostOutcome(claim.review_id, to_state, reason, post_state, wrote)


def retry_later(db: Database, claim: PostClaim, settings: PipelineSettings, error: str, *,
                retry_after: float | None = None, wrote: bool = False) -> PostOutcome:
    """Back to approved with a jittered `next_attempt_at`, or failed after too many tries."""
    attempts = claim.attempts + 1
    if attempts >= settings.max_attempts:
        return finish(db, claim, states.FAILED, f"Gave up after {attempts} attempts: {error}",
                      outcome="gave_up", wrote=wrote, attempts=attempts, last_error=error)
    delay = settings.backoff(attempts, retry_after)
    return finish(db, claim, states.APPROVED,
                  f"Retry in {delay.total_seconds():.0f}s after: {error}", outcome="retry",
                  wrote=wrote, attempts=attempts, last_error=error,
                  next_attempt_at=utcnow() + delay)


def _settle_read(db: Database, claim: PostClaim, existing: PostedReply | None,
                 settings: PipelineSettings, *, wrote: bool,
                 unknown: str | None) -> PostOutcome | None:
    """Decide from a successful read; `unknown` is the error of a write whose fate we read."""
    verdict = judge(existing, claim)
    if verdict == SAME:
        assert existing is not None
        return finish(db, claim, states.POSTED, "Our reply is on the platform",
                      outcome="posted", wrote=wrote, post_state=existing.state,
                      posted_at=utcnow(), platform_reply=existing.text, follow_up=False,
                      last_error=None, next_attempt_at=_next_check(existing.state, settings))
    if verdict == OTHER and not claim.confirm_overwrite:
        assert existing is not None
        return finish(db, claim, states.NEEDS_ATTENTION,
                      "Someone else has replied on the platform; replacing their reply needs "
                      "a person's explicit confirmation", outcome="other_reply", wrote=wrote,
                      platform_reply=existing.text, platform_reply_at=existing.updated_at)
    if unknown is not None:
        return retry_later(db, claim, settings, unknown, wrote=wrote)
    return None


def _next_check(state: str, settings: PipelineSettings):
    """When to read a reply again that the platform has not published yet."""
    if state == PUBLISHED:
        return None
    return utcnow() + timedelta(seconds=settings.publication_check_seconds)


def read_back(connector: Connector, claim: PostClaim, settings: PipelineSettings) -> str:
    """The state the platform shows our reply in; `unconfirmed` if no read showed it."""
    state = "unconfirmed"
    for attempt in range(settings.readback_tries):
        try:
            current = connector.get_reply(claim.review)
        except ConnectorError:
            current = None
        if current is not None and judge(current, claim) == SAME:
            state = current.state
            if state == PUBLISHED:
                return state
        if attempt + 1 < settings.readback_tries:
            time.sleep(settings.readback_interval)
    return state


def post_claimed(db: Database, claim: PostClaim, connector: Connector,
                 settings: PipelineSettings | None = None) -> PostOutcome:
    """Write one claimed reply, exactly once, and record the outcome."""
    settings = settings or PipelineSettings()
    try:
        existing = connector.get_reply(claim.review)
    except ConnectorError as exc:
        if exc.retryable:
            return retry_later(db, claim, settings, error_text(exc),
                               retry_after=getattr(exc, "retry_after", None))
        return finish(db, claim, states.FAILED, error_text(exc), outcome="failed",
                      last_error=error_text(exc))
    settled = _settle_read(db, claim, existing, settings, wrote=False, unknown=None)
    if settled is not None:
        return settled
    if claim.confirm_overwrite and judge(existing, claim) == OTHER:
        event("post.overwrite", review=claim.review_id, worker=claim.worker,
              confirmed_by=claim.worker)
    failpoints.hit("before_platform_call")
    try:
        posted = connector.post_reply(claim.review, claim.text)
    except RateLimited as exc:
        # Refused before anything was stored, so the next attempt is an ordinary one.
        return retry_later(db, claim, settings, error_text(exc), retry_after=exc.retry_after)
    except ConnectorError as exc:
        if not exc.retryable:
            return finish(db, claim, states.FAILED, error_text(exc), outcome="failed",
                          wrote=True, last_error=error_text(exc))
        return _after_unknown(db, claim, connector, settings, error_text(exc))
    except Exception as exc:  # noqa: BLE001  any other failure may have reached the platform
        return _after_unknown(db, claim, connector, settings, error_text(exc))
    failpoints.hit("after_platform_accept")
    state = read_back(connector, claim, settings)
    if state == "unconfirmed" and posted.state != PUBLISHED:
        state = posted.state
    return finish(db, claim, states.POSTED, f"Posted by {claim.worker}", outcome="posted",
                  wrote=True, post_state=state, posted_at=utcnow(), platform_reply=claim.text,
                  follow_up=False, last_error=None, next_attempt_at=_next_check(state, settings))


def _after_unknown(db: Database, claim: PostClaim, connector: Connector,
                   settings: PipelineSettings, error: str) -> PostOutcome:
    """A write that may or may not have landed: read before deciding anything."""
    try:
        existing = connector.get_reply(claim.review)
    except ConnectorError as exc:
        return retry_later(db, claim, settings, f"{error}; then the read failed: "
                                                f"{error_text(exc)}", wrote=True)
    settled = _settle_read(db, claim, existing, settings, wrote=True, unknown=error)
    assert settled is not None  # with `unknown` set every verdict settles
    return settled


def post_one(db: Database, review_id: int, connector: Connector, actor: Actor, *,
             confirm_overwrite: bool = False,
             settings: PipelineSettings | None = None) -> PostOutcome:
    """A person posts one approved reply now (the queue's "Post" button).

    Refuses, with zero platform calls, unless the actor is an approver and the review is
    approved with its approved text intact. `confirm_overwrite` is the person's explicit
    permission to replace a reply someone else left on the platform; it is audited.
    """
    require(actor, "approver")
    settings = settings or PipelineSettings()
    with db.session() as session:
        claim = claim_review(session, review_id, actor.name, lease=settings.lease,
                             actor=actor.name, confirm_overwrite=confirm_overwrite)
    if claim is None:
        with db.session() as session:
            row = session.get(ReviewRow, review_id)
            reason = row.status_reason if row else ""
        return PostOutcome(review_id, states.NEEDS_ATTENTION, reason)
    return post_claimed(db, claim, connector, settings)
