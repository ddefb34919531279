"""Recovering posts whose worker died (or stalled) while holding the claim.

A review stuck in `posting` past its lease may or may not have reached the platform, so it is
never put straight back to approved: the reaper takes over the lease, reads the platform's
current reply and decides from what it sees. It never writes to a platform itself.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from connectors.errors import ConnectorError, QuotaExhausted

from ..store import states
from ..store.db import Database
from ..store.models import utcnow
from .claims import PostClaim, claim_expired_posts
from .config import PipelineSettings
from .models import ReplyAttemptRow
from .poster import PostOutcome, defer, error_text, finish, settle
from .registry import ConnectorResolver


def reconcile(db: Database, claim: PostClaim, resolve: ConnectorResolver,
              settings: PipelineSettings) -> PostOutcome:
    """Decide an abandoned post from the platform's current reply, through the poster's guard.

    Our text there: posted. Nothing (or an older reply of ours): approved, for a retry that
    will read again first. Someone else's: a person looks at it. No way to read: a person too,
    except when only our own quota count stands in the way, which just waits.
    """
    _close_abandoned(db, claim)
    try:
        existing = resolve(claim.review).get_reply(claim.review)
    except QuotaExhausted as exc:
        return defer(db, claim, exc)
    except (ConnectorError, LookupError) as exc:
        return finish(db, claim, states.NEEDS_ATTENTION,
                      "The post's lease expired and the platform could not be read to see "
                      f"whether the reply went out: {error_text(exc)}", outcome="reaped")
    settled = settle(db, claim, existing, settings, outcome="reaped",
                     unknown="The post's lease expired and the platform shows no reply from it")
    assert settled is not None  # with `unknown` set every verdict settles
    return settled


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
