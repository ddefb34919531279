"""The pipeline's own worker steps: draft, auto-approve, reap, post, check publication.

The publication check lives in `publication`; it is listed here with the others so the
order of every step is read in one place.

Each step claims its work in a short transaction, does the slow part (drafting, platform calls)
with no transaction open, and records results in another short transaction.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from connectors.errors import ConnectorError

from ..drafting import Draft, Drafter, draft_review, get_drafter
from ..policy import Policy
from ..sources.brands import policy_for_source
from ..store import states, tallies
from ..store.db import Database
from ..store.reviews import save_draft
from .autoapprove import auto_approve
from .claims import DraftClaim, claim_for_posting, claim_new, finish_draft_claim
from .control import is_paused
from .logs import event
from .poster import error_text, post_claimed, retry_later
from .publication import publication_step
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
        policies = {claim.review.source: policy_for_source(session, claim.review.source, policy)
                    for claim in claims}
    results: list[tuple[DraftClaim, Draft | None, str | None]] = []
    for claim in claims:
        try:
            results.append((claim, draft_review(claim.review, policies[claim.review.source],
                                                drafter), None))
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


def fold_step(ctx: StepContext) -> int:
    """Add up the queue's appended tallies (see `store.tallies`). Housekeeping, not work: it
    reports 0 so an otherwise idle worker still sleeps."""
    with ctx.db.session() as session:
        tallies.fold(session)
    return 0


# The pipeline's own steps, in the order a tick runs them; the runtime adds syncing sources,
# delivering events and purging old keys around them.
PIPELINE_STEPS: tuple[Step, ...] = (
    Step("draft", draft_step, order=20),
    Step("auto_approve", approve_step, order=30),
    Step("reap", reap_step, order=35),
    Step("post", post_step, order=40),
    Step("publication", publication_step, order=45),
    Step("fold_tallies", fold_step, order=95, every=60.0),
)
