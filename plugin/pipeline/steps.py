"""The pipeline's own worker steps: draft, auto-approve, reap, post, check publication.

The publication check lives in `publication`; it is listed here with the others so the
order of every step is read in one place.

Each step claims its work in a short transaction, does the slow part (drafting, platform calls)
with no transaction open, and records results in another short transaction.
"""
from __future__ import annotations

import contextlib
import logging
import queue
import threading
from datetime import timedelta

from connectors.base import Connector
from connectors.errors import ConnectorError

from ..drafting import Draft, Drafter, draft_review, get_drafter
from ..policy import Policy
from ..sources.brands import policies_for_sources
from ..store import states, tallies
from ..store.db import Database
from ..store.models import ReviewRow
from ..store.reviews import save_drafts
from .autoapprove import auto_approve
from .claims import (
    DraftClaim,
    PostClaim,
    claim_for_posting,
    claim_new,
    finish_draft_claims,
)
from .control import is_paused
from .logs import event
from .poster import error_text, post_claimed, release, retry_later
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
        policies = policies_for_sources(session, {claim.review.source for claim in claims},
                                        policy)
    results: list[tuple[DraftClaim, Draft | None, str | None]] = []
    for claim in claims:
        try:
            results.append((claim, draft_review(claim.review, policies[claim.review.source],
                                                drafter), None))
        except Exception as exc:  # noqa: BLE001  one bad review must not stop the batch
            results.append((claim, None, error_text(exc)))
    if not results:
        return 0, 0
    failed = 0
    with db.session() as session, states.audit_batch(session):
        rows = finish_draft_claims(session, claims)
        drafted: list[tuple[ReviewRow, Draft]] = []
        for claim, draft, error in results:
            row = rows.get(claim.review_id)
            if row is None:
                continue
            if draft is None:
                states.transition(session, row, states.DRAFT_FAILED, actor=worker,
                                  reason=f"Drafting failed: {error}", last_error=error,
                                  claimed_by=None, lease_until=None, flush=False)
                failed += 1
            else:
                drafted.append((row, draft))
        save_drafts(session, drafted, actor=worker, claimed_by=None, lease_until=None)
    return len(drafted), failed


def approve_step(ctx: StepContext) -> int:
    return auto_approve(ctx.db, ctx.policy, limit=ctx.settings.approve_batch)


def reap_step(ctx: StepContext) -> int:
    return reap(ctx.db, ctx.resolve, ctx.worker, ctx.settings)


class _PlatformSlots:
    """At most `Connector.parallel_writes` posts in flight per connector class, for platforms
    that hold parallel requests against a caller; the others take the worker's concurrency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[type, threading.Semaphore] = {}

    def slot(self, connector: Connector) -> threading.Semaphore | contextlib.nullcontext:
        limit = getattr(connector, "parallel_writes", None)
        if not limit:
            return contextlib.nullcontext()
        with self._lock:
            return self._slots.setdefault(type(connector), threading.Semaphore(limit))


def _post(ctx: StepContext, claim: PostClaim, slots: _PlatformSlots) -> None:
    """Post one claimed reply; a claim not started when the worker is told to stop goes back."""
    if ctx.stop.is_set():
        release(ctx.db, claim, "the worker stopped before posting it")
        return
    try:
        connector = ctx.resolve(claim.review)
    except (LookupError, ConnectorError) as exc:
        retry_later(ctx.db, claim, ctx.settings, f"No connector: {error_text(exc)}")
        return
    with slots.slot(connector):
        post_claimed(ctx.db, claim, connector, ctx.settings)


def post_step(ctx: StepContext) -> int:
    """Post approved replies `concurrency` at a time, claimed that many at once.

    While paused, only replies a person asked to post now ("Approve and post", "Post now")
    go out: the kill switch stops the automatic machinery, not a person's deliberate act; it
    is read once a tick, in the first claim's transaction. One transaction claims a reply for
    every posting thread (`MAKERIGHT_WORKER_POST_CONCURRENCY`), and the next such batch is
    claimed while threads are still posting: a worker that dies holds at most twice its
    concurrency in claims, which the reaper settles when their lease runs out; one told to stop
    gives back the claims it has not started. Each platform is capped by its connector's
    `parallel_writes`, and each post records its own outcome, fenced by its claim. Every
    thread keeps one database connection for the tick.
    """
    slots = _PlatformSlots()
    work: queue.Queue[PostClaim | None] = queue.Queue()
    # Claims taken and not yet settled: one batch in flight and the next one waiting, at most.
    room = threading.Semaphore(2 * ctx.concurrency)

    def lane() -> None:
        with ctx.db.pinned():
            while (claim := work.get()) is not None:
                try:
                    _post(ctx, claim, slots)
                except Exception as exc:  # noqa: BLE001  the lease and the reaper cover it
                    event("post.error", logging.ERROR, review=claim.review_id,
                          worker=ctx.worker, error=f"{exc.__class__.__name__}: {exc}")
                finally:
                    room.release()
                    work.task_done()

    lanes = [threading.Thread(target=lane, name=f"post-{n}", daemon=True)
             for n in range(ctx.concurrency)] if ctx.concurrency > 1 else []
    for thread in lanes:
        thread.start()
    done = 0
    paused: bool | None = None

    def claim() -> list[PostClaim]:
        nonlocal paused
        if done >= ctx.settings.post_batch * ctx.concurrency or ctx.stop.is_set():
            return []
        with ctx.db.session() as session:
            if paused is None:
                paused = is_paused(session)
            return claim_for_posting(session, ctx.worker, lease=ctx.settings.lease,
                                     limit=ctx.concurrency, requested_only=paused)

    try:
        with ctx.db.pinned():
            while True:
                if lanes:
                    # A new batch once a batch's worth of threads is free or about to be: the
                    # threads never wait on a claim transaction, nor on each other.
                    for _ in range(ctx.concurrency):
                        room.acquire()
                claims = claim()
                if not claims:
                    break
                done += len(claims)
                if not lanes:
                    for claim_ in claims:
                        _post(ctx, claim_, slots)
                    continue
                for _ in range(ctx.concurrency - len(claims)):
                    room.release()
                for claim_ in claims:
                    work.put(claim_)
            work.join()
    finally:
        for _ in lanes:
            work.put(None)
        for thread in lanes:
            thread.join()
    return done


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
