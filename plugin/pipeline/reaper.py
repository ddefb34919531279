"""Recovering posts whose worker died (or stalled) while holding the claim.

A review stuck in `posting` past its lease may or may not have reached the platform, so it is
never put straight back to approved: the reaper takes over the lease, reads the platform's
current reply and decides from what it sees. It never writes to a platform itself.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from connectors.errors import ConnectorError

from ..store import states
from ..store.db import Database
from ..store.models import utcnow
from .claims import PostClaim, claim_expired_posts
from .config import PipelineSettings
from .models import ReplyAttemptRow
from .poster import EMPTY, OURS_BEFORE, SAME, PostOutcome, error_text, finish, judge, retry_later
from .registry import ConnectorResolver


def reconcile(db: Database, claim: PostClaim, resolve: ConnectorResolver,
              settings: PipelineSettings) -> PostOutcome:
    """Decide an abandoned post from the platform's current reply.

    Our text there: posted. Nothing (or an older reply of ours): approved, for a retry that
    will read again first. Someone else's, or no way to read: a person looks at it.
    """
    _close_abandoned(db, claim)
    try:
        existing = resolve(claim.review).get_reply(claim.review)
    except (ConnectorError, LookupError) as exc:
        return finish(db, claim, states.NEEDS_ATTENTION,
                      "The post's lease expired and the platform could not be read to see "
                      f"whether the reply went out: {error_text(exc)}", outcome="reaped")
    verdict = judge(existing, claim)
    if verdict == SAME:
        assert existing is not None
        return finish(db, claim, states.POSTED, "Lease expired; the platform shows our reply",
                      outcome="reaped", post_state=existing.state, posted_at=utcnow(),
                      platform_reply=existing.text, follow_up=False, last_error=None,
                      next_attempt_at=None)
    if verdict in (EMPTY, OURS_BEFORE):
        return retry_later(db, claim, settings,
                           "The post's lease expired and the platform shows no reply from it")
    assert existing is not None
    return finish(db, claim, states.NEEDS_ATTENTION,
                  "The post's lease expired and someone else's reply is on the platform",
                  outcome="reaped", platform_reply=existing.text,
                  platform_reply_at=existing.updated_at)


def _close_abandoned(db: Database, claim: PostClaim) -> None:
    """Mark the dead worker's open attempt rows, so the attempt log never shows them running."""
    with db.session() as session:
        session.execute(update(ReplyAttemptRow)
                        .where(ReplyAttemptRow.review_id == claim.review_id,
                               ReplyAttemptRow.outcome == "started")
                        .values(outcome="abandoned", finished_at=utcnow(),
                                detail=f"lease taken over by {claim.worker}"))


def reap(db: Database, resolve: ConnectorResolver, worker: str,
         settings: PipelineSettings | None = None, now: datetime | None = None) -> int:
    """Reconcile every post whose lease has expired; the number handled."""
    settings = settings or PipelineSettings()
    with db.session() as session:
        claims = claim_expired_posts(session, worker, lease=settings.lease,
                                     limit=settings.reap_batch, now=now)
    for claim in claims:
        reconcile(db, claim, resolve, settings)
    return len(claims)
