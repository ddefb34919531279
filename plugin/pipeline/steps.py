"""The pipeline's own worker steps: draft, auto-approve, reap, post, check publication.

Each step claims its work in a short transaction, does the slow part (drafting, platform calls)
with no transaction open, and records results in another short transaction.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import PostedReply
from connectors.errors import ConnectorError, QuotaExhausted

from ..drafting import Drafter, draft_review, get_drafter
from ..policy import Policy
from ..store.db import Database
from ..store import states
from ..store.models import ReviewRow, utcnow
from ..store.reviews import save_draft, to_review
from .autoapprove import auto_approve
from .claims import claim_for_posting, claim_new, finish_draft_claim, lockable, normal_hash
from .control import is_paused
from .logs import event
from .poster import PUBLISHED, UNCONFIRMED, error_text, post_claimed, retry_later
from .reaper import reap
from .registry import Step, StepContext


def draft_step(ctx: StepContext) -> int:
    """Draft a batch of new reviews; the lease keeps other workers off them meanwhile."""
    drafted, failed = draft_new(ctx.db, ctx.policy, ctx.drafter or get_drafter("offline"),
                                ctx.worker, lease=ctx.settings.draft_lease,
                                limit=ctx.settings.draft_batch)
    if drafted or failed:
        event("draft", worker=ctx.worker, drafted=drafted, failed=failed)
    return drafted + failed


def draft_new(db: Database, policy: Policy, drafter: Drafter, worker: str, *,
              lease: timedelta, limit: int, ids: list[int] | None = None) -> tuple[int, int]:
    """Claim, draft and store new reviews: (drafted, failed).

    The drafter runs with no transaction open (a model call takes seconds); a review that
    changed meanwhile is left for the next round, so two drafters never both store a draft.
    """
    with db.session() as session:
        claims = claim_new(session, worker, lease=lease, limit=limit, ids=ids)
    results = []
    for claim in claims:
        try:
            results.append((claim, draft_review(claim.review, policy, drafter), None))
        except Exception as exc:  # noqa: BLE001  one bad review must not stop the batch
            results.append((claim, None, error_text(exc)))
    drafted = failed = 0
    with db.session() as session:
        for claim, draft, error in results:
            row = finish_draft_claim(session, claim)
            if row is None:
                continue
            if draft is None:
                states.transition(session, row, states.DRAFT_FAILED, actor=worker,
                                  reason=f"Drafting failed: {error}", last_error=error)
                failed += 1
            else:
                save_draft(session, row, draft, actor=worker)
                drafted += 1
    return drafted, failed


def approve_step(ctx: StepContext) -> int:
    return auto_approve(ctx.db, ctx.policy, limit=ctx.settings.approve_batch)


def reap_step(ctx: StepContext) -> int:
    return reap(ctx.db, ctx.resolve, ctx.worker, ctx.settings)


def _lane(ctx: StepContext, lane: int, paused: bool) -> int:
    """Claim and post one review at a time until none is due or the batch is done."""
    name = ctx.worker if ctx.concurrency == 1 else f"{ctx.worker}/{lane}"
    done = 0
    while done < ctx.settings.post_batch and not ctx.stop.is_set():
        with ctx.db.session() as session:
            claims = claim_for_posting(session, name, lease=ctx.settings.lease,
                                       requested_only=paused)
        if not claims:
            break
        claim = claims[0]
        try:
            connector = ctx.resolve(claim.review)
        except (LookupError, ConnectorError) as exc:
            retry_later(ctx.db, claim, ctx.settings, f"No connector: {error_text(exc)}")
        else:
            post_claimed(ctx.db, claim, connector, ctx.settings)
        done += 1
    return done


def post_step(ctx: StepContext) -> int:
    """Post approved replies on `concurrency` lanes.

    While paused, only replies a person asked to post now ("Approve and post", "Post now")
    go out: the kill switch stops the automatic machinery, not a person's deliberate act.
    """
    with ctx.db.session() as session:
        paused = is_paused(session)
    if ctx.concurrency == 1:
        return _lane(ctx, 0, paused)
    with ThreadPoolExecutor(ctx.concurrency, thread_name_prefix="post") as pool:
        return sum(pool.map(lambda lane: _lane(ctx, lane, paused), range(ctx.concurrency)))


def _rejected(state: str) -> bool:
    return "reject" in state or "violation" in state or state == "removed"


def publication_step(ctx: StepContext) -> int:
    """Read again replies the platform had not published (or not shown) yet, and record what
    it shows now.

    `next_attempt_at` on a posted review is when to look next. A write no read has shown yet
    is looked at again with doubling waits for `confirm_for_seconds`; a reply that is missing
    after that, was replaced or was rejected by moderation goes back to a person.
    """
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
        except QuotaExhausted as exc:
            _look_again_after(ctx, review_id, timedelta(seconds=exc.retry_after or 60.0))
            continue
        except (LookupError, ConnectorError):
            continue
        with ctx.db.session() as session:
            row = session.get(ReviewRow, review_id)
            if row is None or row.status != states.POSTED:
                continue
            _record_publication(ctx, session, row, current, ours)
            event("publication", review=review_id, post_state=row.post_state)
    return len(due)


def _look_again_after(ctx: StepContext, review_id: int, wait: timedelta) -> None:
    with ctx.db.session() as session:
        row = session.get(ReviewRow, review_id)
        if row is not None and row.status == states.POSTED:
            row.next_attempt_at = utcnow() + wait


def _record_publication(ctx: StepContext, session: Session, row: ReviewRow,
                        current: PostedReply | None, ours: str) -> None:
    """What the platform shows of a posted reply now, and when to look again."""
    now = utcnow()
    missing = current is None or not current.text.strip()
    if missing and row.post_state == UNCONFIRMED and row.posted_at is not None \
            and now - row.posted_at < timedelta(seconds=ctx.settings.confirm_for_seconds):
        row.next_attempt_at = now + ctx.settings.confirm_again_after(now - row.posted_at)
    elif missing:
        states.transition(session, row, states.NEEDS_ATTENTION, actor=ctx.worker,
                          reason="The platform does not show our reply (missing)",
                          post_state="missing", next_attempt_at=None)
    elif normal_hash(current.text) != normal_hash(ours):
        states.transition(session, row, states.NEEDS_ATTENTION, actor=ctx.worker,
                          reason="The platform shows another reply instead of ours (replaced)",
                          post_state="replaced", next_attempt_at=None,
                          platform_reply=current.text, platform_reply_at=current.updated_at)
    elif _rejected(current.state):
        states.transition(session, row, states.NEEDS_ATTENTION, actor=ctx.worker,
                          reason=f"The platform did not publish our reply "
                                 f"({current.state})", post_state=current.state,
                          next_attempt_at=None)
    else:
        row.post_state = current.state
        row.next_attempt_at = None if current.state == PUBLISHED else \
            now + timedelta(seconds=ctx.settings.publication_check_seconds)


# The pipeline's own steps, in the order a tick runs them; the runtime adds syncing sources,
# delivering events and purging old keys around them.
PIPELINE_STEPS: tuple[Step, ...] = (
    Step("draft", draft_step, order=20),
    Step("auto_approve", approve_step, order=30),
    Step("reap", reap_step, order=35),
    Step("post", post_step, order=40),
    Step("publication", publication_step, order=45),
)
