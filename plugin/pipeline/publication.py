"""After the write: whether the platform shows our reply, read again with backoff by a worker.

A reply the platform accepted is `posted`; it is `published` once a read shows it live (Google
moderation APPROVED, App Store PUBLISHED, or a platform without moderation showing our text),
and `rejected` when moderation refuses it. A rejected reply reopens its review for a person,
with the platform's reason on the page and a new draft that answers that reason.

Nothing here waits inline: `next_attempt_at` on a posted review is when to read next, and each
read that still finds the reply pending doubles the wait (`PipelineSettings.publication_wait`),
never sooner than the platform's Retry-After.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import POSTED, PUBLISHED, REJECTED, PostedReply
from connectors.errors import ConnectorError, QuotaExhausted, RateLimited

from ..drafting import get_drafter
from ..moderation import Rejection, recent_replies, redraft
from ..store import states
from ..store.models import ReviewRow, utcnow
from ..store.reviews import save_draft, to_review
from .claims import lockable, normal_hash
from .logs import event
from .poster import UNCONFIRMED
from .registry import StepContext

log = logging.getLogger(__name__)


def publication_step(ctx: StepContext) -> int:
    """Read again the posted replies that are due and record what the platform shows now."""
    now = utcnow()
    with ctx.db.session() as session:
        query = (select(ReviewRow).where(
            ReviewRow.status == states.POSTED, ReviewRow.next_attempt_at <= now,
            ReviewRow.posted_at >= now - ctx.settings.publication_check_for)
            .order_by(ReviewRow.next_attempt_at).limit(ctx.settings.reap_batch))
        due = []
        for row in session.scalars(lockable(session, query)).all():
            row.next_attempt_at = now + ctx.settings.lease
            due.append((row.id, to_review(row), row.platform_reply or ""))
    for review_id, review, ours in due:
        try:
            current = ctx.resolve(review).get_reply(review)
        except (QuotaExhausted, RateLimited) as exc:
            _look_again_after(ctx, review_id, timedelta(seconds=exc.retry_after or 60.0))
            continue
        except (LookupError, ConnectorError) as exc:
            log.warning("publication check of review %s failed: %s", review_id, exc)
            _look_again_after(ctx, review_id, ctx.settings.publication_wait(0))
            continue
        with ctx.db.session() as session:
            row = session.get(ReviewRow, review_id)
            if row is None or row.status != states.POSTED:
                continue
            record_publication(ctx, session, row, current, ours)
            event("publication", review=review_id, post_state=row.post_state,
                  public_state=row.public_state)
    return len(due)


def _look_again_after(ctx: StepContext, review_id: int, wait: timedelta) -> None:
    with ctx.db.session() as session:
        row = session.get(ReviewRow, review_id)
        if row is not None and row.status == states.POSTED:
            row.next_attempt_at = utcnow() + max(wait, ctx.settings.publication_wait(0))


def record_publication(ctx: StepContext, session: Session, row: ReviewRow,
                       current: PostedReply | None, ours: str) -> None:
    """What the platform shows of a posted reply now, and when to look again."""
    now = utcnow()
    missing = current is None or not current.text.strip()
    if missing and row.post_state == UNCONFIRMED and row.posted_at is not None \
            and now - row.posted_at < timedelta(seconds=ctx.settings.confirm_for_seconds):
        row.next_attempt_at = now + ctx.settings.confirm_again_after(now - row.posted_at)
        return
    if missing:
        states.transition(session, row, states.NEEDS_ATTENTION, actor=ctx.worker,
                          reason="The platform does not show our reply (missing)",
                          post_state="missing", next_attempt_at=None)
        return
    assert current is not None
    if normal_hash(current.text) != normal_hash(ours):
        states.transition(session, row, states.NEEDS_ATTENTION, actor=ctx.worker,
                          reason="The platform shows another reply instead of ours (replaced)",
                          post_state="replaced", next_attempt_at=None,
                          platform_reply=current.text, platform_reply_at=current.updated_at)
        return
    public = current.public_state
    if public == REJECTED:
        reject(ctx, session, row, current)
        return
    row.post_state = current.state
    if public == PUBLISHED:
        row.public_state, row.next_attempt_at = PUBLISHED, None
        states.record(session, row, actor=ctx.worker, action="reply_published",
                      reason=f"The platform shows the reply in public ({current.state})")
        return
    row.public_state = POSTED
    row.public_checks = (row.public_checks or 0) + 1
    row.next_attempt_at = now + ctx.settings.publication_wait(row.public_checks)


def reject(ctx: StepContext, session: Session, row: ReviewRow, current: PostedReply) -> None:
    """Reopen a review whose reply moderation refused: the reason for a person, and a redraft.

    The new draft is never approved by itself: the review stays with a person, whose page
    shows the platform's reason next to the draft that answers it.
    """
    rejection = Rejection(current.reason or current.state.upper())
    states.transition(session, row, states.NEEDS_ATTENTION, actor=ctx.worker,
                      reason=rejection.headline, post_state=current.state,
                      public_state=REJECTED, public_reason=rejection.reason[:80],
                      next_attempt_at=None)
    states.record(session, row, actor=ctx.worker, action="reply_rejected",
                  reason=rejection.headline)
    event("publication.rejected", logging.WARNING, review=row.id, reason=rejection.reason)
    if ctx.policy is None:
        return
    avoid = [current.text, *recent_replies(session, row)]
    drafter = ctx.drafter or get_drafter("offline")
    try:
        draft = redraft(to_review(row), ctx.policy, drafter, rejection, avoid)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001  the rejection stands even if no redraft is made
        log.warning("redraft after rejection of review %s failed: %s", row.id, exc)
        return
    save_draft(session, row, draft, actor=ctx.worker, instruction=rejection.instruction)
    if row.status != states.NEEDS_ATTENTION:
        states.transition(session, row, states.NEEDS_ATTENTION, actor=ctx.worker,
                          reason=rejection.headline)
    else:
        row.status_reason = rejection.headline
