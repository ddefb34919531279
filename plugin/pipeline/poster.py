"""The one place that writes replies to platforms.

Exactly once, as far as a platform without idempotency keys allows: the reply is claimed in one
short transaction, the platform is read before the write (our text there means it is already
posted; someone else's means a person decides), the write happens with no transaction open, and
the outcome is recorded in a second transaction fenced by the claim. A write is sent once: the
connectors never repeat one, and any write whose outcome is unknown (timeout, reset, 5xx,
`OutcomeUnknown`) is followed by a read before anything else is decided. The reaper does the
same for a worker that died mid-post. The remaining window (the platform accepted, we crashed
before the commit) is closed by that read: the next look finds our text and records it as
posted without writing again.

Every decision taken from what the platform shows goes through `settle`, the one guard: our
text there is posted; someone else's reply is left alone unless a person confirmed replacing
exactly that reply; nothing there means the write may (still) happen. Nothing here sleeps:
anything to do later is a time written on the row (`next_attempt_at`) for a worker step.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update

from connectors.base import PUBLISHED as PUBLIC
from connectors.base import REJECTED, Connector, PostedReply, public_state
from connectors.errors import ConnectorError, QuotaExhausted, RateLimited

from ..actions import Actor, require
from ..moderation import GOOGLE, REPETITIVE, SIMILAR
from ..store import states
from ..store.db import Database
from ..store.models import ReviewRow, utcnow
from . import failpoints
from .claims import PostClaim, claim_review, normal_hash
from .config import PipelineSettings
from .logs import event
from .models import ReplyAttemptRow

PUBLISHED = "published"
#: A write the platform accepted that no read has shown yet.
UNCONFIRMED = "unconfirmed"
LOST = "lost"
EMPTY, SAME, OURS_BEFORE, OTHER, REPLACEABLE = "empty", "same", "ours_before", "other", \
    "replaceable"
AUDIT_QUOTE = 300


@dataclass(frozen=True)
class PostOutcome:
    """How one post ended: the review's new status (or `lost` if our claim was taken over)."""

    review_id: int
    status: str
    reason: str
    post_state: str | None = None
    wrote: bool = False


def judge(existing: PostedReply | None, claim: PostClaim) -> str:
    """What a reply found on the platform means for this claim.

    REPLACEABLE is someone else's reply that a person confirmed replacing: the exact one they
    saw, by hash, so a reply written after their confirmation is still OTHER.
    """
    if existing is None or not existing.text.strip():
        return EMPTY
    found = normal_hash(existing.text)
    if found == normal_hash(claim.text):
        return SAME
    if found in claim.ours:
        return OURS_BEFORE
    return REPLACEABLE if found == claim.overwrite_hash else OTHER


def error_text(exc: Exception) -> str:
    """What a person should read: the platform's own words when it gave any."""
    return getattr(exc, "platform_message", None) or str(exc) or exc.__class__.__name__


def finish(db: Database, claim: PostClaim, to_state: str, reason: str, *, outcome: str,
           wrote: bool = False, note: tuple[str, str] | None = None,
           **fields) -> PostOutcome:
    """Record how a claimed post ended, if the claim is still ours.

    The fence (status `posting` and `claimed_by` us) stops a worker whose lease ran out from
    overwriting what the reaper decided after reading the platform. `note` is an extra audit
    row (action, reason) written with the outcome.
    """
    post_state = fields.get("post_state")
    with db.session() as session, states.audit_batch(session):
        row = states.transition_claimed(session, claim.review_id, to_state, actor=claim.worker,
                                        expected=states.POSTING, holder=claim.worker,
                                        reason=reason, note=note, claimed_by=None,
                                        lease_until=None, **fields)
        if row is not None:
            if to_state == states.POSTED and fields.get("public_state") == PUBLIC:
                states.record(session, row, actor=claim.worker, action="reply_published",
                              reason="The platform shows the reply in public")
            if to_state == states.POSTED and row.content_hash != claim.content_hash:
                states.transition(session, row, states.NEEDS_ATTENTION, actor=claim.worker,
                                  reason="The customer edited the review while our reply was "
                                         "being posted; consider a follow-up", follow_up=True)
        else:
            outcome, to_state = LOST, LOST
            current = session.get(ReviewRow, claim.review_id)
            reason = f"the claim was taken over ({current.status if current else 'deleted'})"
        if claim.attempt_id is not None:
            session.execute(update(ReplyAttemptRow)
                            .where(ReplyAttemptRow.id == claim.attempt_id)
                            .values(outcome=outcome, finished_at=utcnow(), detail=reason[:2000]))
    level = logging.INFO if outcome in ("posted", "retry", "reaped", "deferred", "released") \
        else logging.WARNING
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


def release(db: Database, claim: PostClaim, why: str) -> PostOutcome:
    """Give back a claim whose post never started: approved again, due now, no attempt spent."""
    return finish(db, claim, states.APPROVED, f"Not posted yet: {why}", outcome="released")


def defer(db: Database, claim: PostClaim, exc: QuotaExhausted) -> PostOutcome:
    """Our own quota count says wait: back to approved until then, and no attempt is spent.

    The platform refused nothing (the call was never made), so this is not a failure and never
    brings a review closer to `failed`.
    """
    wait = timedelta(seconds=max(exc.retry_after or 0.0, 1.0))
    return finish(db, claim, states.APPROVED, f"Waiting for the platform quota: {error_text(exc)}",
                  outcome="deferred", next_attempt_at=utcnow() + wait)


def _next_check(state: str, settings: PipelineSettings):
    """When to read a posted reply again: soon if no read showed it, later if it is pending.

    A rejection seen at once is handed to the publication step now, which reopens the review.
    """
    public = public_state(state)
    if public == PUBLIC:
        return None
    if public == REJECTED:
        return utcnow()
    wait = settings.confirm_first_seconds if state == UNCONFIRMED \
        else settings.publication_wait(0).total_seconds()
    return utcnow() + timedelta(seconds=wait)


def _posted(db: Database, claim: PostClaim, settings: PipelineSettings, reason: str, *,
            outcome: str, wrote: bool, state: str, text: str,
            note: tuple[str, str] | None = None) -> PostOutcome:
    return finish(db, claim, states.POSTED, reason, outcome=outcome, wrote=wrote, note=note,
                  post_state=state, posted_at=utcnow(), platform_reply=text, follow_up=False,
                  last_error=None, next_attempt_at=_next_check(state, settings),
                  public_state=PUBLIC if public_state(state) == PUBLIC else "posted",
                  public_reason=None, public_checks=0)


def settle(db: Database, claim: PostClaim, existing: PostedReply | None,
           settings: PipelineSettings, *, wrote: bool = False, unknown: str | None = None,
           outcome: str = "posted", note: tuple[str, str] | None = None,
           retry_after: float | None = None) -> PostOutcome | None:
    """Decide from what the platform shows; None means the write may go ahead.

    `unknown` is why we are reading (a write whose fate we do not know, an expired lease):
    then nothing is written now, and anything short of our text or someone else's reply is
    retried later, after a backoff, by a claim that reads first again. `note` is recorded if
    our reply turns out to be there (the write it describes landed).
    """
    verdict = judge(existing, claim)
    if verdict == SAME:
        assert existing is not None
        return _posted(db, claim, settings, "The platform shows our reply", outcome=outcome,
                       wrote=wrote, state=existing.state, text=existing.text, note=note)
    if verdict == OTHER:
        assert existing is not None
        return finish(db, claim, states.NEEDS_ATTENTION,
                      "Someone else has replied on the platform; replacing their reply needs "
                      "a person's explicit, audited confirmation", outcome="other_reply",
                      wrote=wrote, platform_reply=existing.text,
                      platform_reply_at=existing.updated_at)
    if unknown is not None:
        return retry_later(db, claim, settings, unknown, wrote=wrote, retry_after=retry_after)
    return None


def _read(db: Database, claim: PostClaim, connector: Connector, settings: PipelineSettings,
          *, wrote: bool, unknown: str | None) -> PostOutcome | PostedReply | None:
    """The platform's current reply, or the recorded outcome when it cannot be read."""
    try:
        return connector.get_reply(claim.review)
    except QuotaExhausted as exc:
        return defer(db, claim, exc)
    except ConnectorError as exc:
        error = error_text(exc) if unknown is None else \
            f"{unknown}; then the read failed: {error_text(exc)}"
        if exc.retryable or unknown is not None:
            return retry_later(db, claim, settings, error, wrote=wrote,
                               retry_after=getattr(exc, "retry_after", None))
        return finish(db, claim, states.FAILED, error, outcome="failed", last_error=error)


def post_claimed(db: Database, claim: PostClaim, connector: Connector,
                 settings: PipelineSettings | None = None) -> PostOutcome:
    """Write one claimed reply, exactly once, and record the outcome."""
    settings = settings or PipelineSettings()
    existing = _read(db, claim, connector, settings, wrote=False, unknown=None)
    if isinstance(existing, PostOutcome):
        return existing
    settled = settle(db, claim, existing, settings)
    if settled is not None:
        return settled
    held = _repeats_a_reply_posted_since_approval(db, claim)
    if held is not None:
        return held
    note = None
    if judge(existing, claim) == REPLACEABLE:
        assert existing is not None
        quote = existing.text[:AUDIT_QUOTE]
        note = ("reply_replaced", f"Replaced the public reply someone else wrote, as "
                                  f"{claim.overwrite_by} confirmed: “{quote}”")
        event("post.overwrite", review=claim.review_id, worker=claim.worker,
              confirmed_by=claim.overwrite_by)
    failpoints.hit("before_platform_call")
    try:
        posted = connector.post_reply(claim.review, claim.text)
    except QuotaExhausted as exc:
        return defer(db, claim, exc)
    except RateLimited as exc:
        # Refused before anything was stored, so the next attempt is an ordinary one.
        return retry_later(db, claim, settings, error_text(exc), retry_after=exc.retry_after)
    except ConnectorError as exc:
        if not exc.retryable:
            return finish(db, claim, states.FAILED, error_text(exc), outcome="failed",
                          wrote=True, last_error=error_text(exc))
        return _after_unknown(db, claim, connector, settings, error_text(exc), note,
                              retry_after=exc.retry_after)
    except Exception as exc:  # noqa: BLE001  any other failure may have reached the platform
        return _after_unknown(db, claim, connector, settings, error_text(exc), note)
    failpoints.hit("after_platform_accept")
    return _posted(db, claim, settings, f"Posted by {claim.worker}", outcome="posted",
                   wrote=True, state=_state_after_write(connector, claim, posted),
                   text=claim.text, note=note)


def _repeats_a_reply_posted_since_approval(db: Database, claim: PostClaim) -> PostOutcome | None:
    """Google rejects a reply too like another of the same location (REPETITIVE).

    Approval compared the reply with the location's replies public at that moment; replies
    posted since then (a bulk approval of similar thank-yous posts them one after another) were
    compared when the claim was taken (`PostClaim.repeat_score`, see `claims`), and a close one
    sends the review back to a person with no platform call. A reply a person approved despite
    an older similar one is not held again.
    """
    if claim.review.platform != GOOGLE or claim.repeat_score < SIMILAR:
        return None
    return finish(db, claim, states.NEEDS_ATTENTION,
                  f"Not posted: Google rejects replies that repeat others ({REPETITIVE}), and "
                  f"this one is {claim.repeat_score:.0%} like a reply this location posted "
                  "after it was approved. Rephrase it and approve again.", outcome="held")


def _state_after_write(connector: Connector, claim: PostClaim, posted: PostedReply) -> str:
    """At most one read, no waiting: the state the platform shows our reply in.

    A platform whose answer to the write is the reply with its state (App Store) is not read
    again here. Unpublished (moderation, App Store review) or not shown yet (`unconfirmed`), a
    reply is read again by the publication step, with backoff, from `next_attempt_at`.
    """
    if connector.write_shows_state and judge(posted, claim) == SAME:
        return posted.state
    try:
        current = connector.get_reply(claim.review)
    except ConnectorError:
        current = None
    if current is not None and judge(current, claim) == SAME:
        return current.state
    return posted.state if posted.state != PUBLISHED else UNCONFIRMED


def _after_unknown(db: Database, claim: PostClaim, connector: Connector,
                   settings: PipelineSettings, error: str,
                   note: tuple[str, str] | None, *,
                   retry_after: float | None = None) -> PostOutcome:
    """A write that may or may not have landed: read before deciding anything."""
    existing = _read(db, claim, connector, settings, wrote=True, unknown=error)
    if isinstance(existing, PostOutcome):
        return existing
    settled = settle(db, claim, existing, settings, wrote=True, unknown=error, note=note,
                     retry_after=retry_after)
    assert settled is not None  # with `unknown` set every verdict settles
    return settled


def post_one(db: Database, review_id: int, connector: Connector, actor: Actor, *,
             settings: PipelineSettings | None = None) -> PostOutcome:
    """Claim and post one named approved reply in this process, now.

    Refuses, with zero platform calls, unless the actor is an approver and the review is
    approved with its approved text intact (`PostRefused`, an `ActionError`). A permission to
    replace someone else's reply comes from the review (`plugin.posting.request_post`).
    """
    require(actor, "approver")
    settings = settings or PipelineSettings()
    with db.session() as session:
        claim = claim_review(session, review_id, actor.name, lease=settings.lease,
                             actor=actor.name)
    if claim is None:
        with db.session() as session:
            row = session.get(ReviewRow, review_id)
            reason = row.status_reason if row else ""
        return PostOutcome(review_id, states.NEEDS_ATTENTION, reason)
    return post_claimed(db, claim, connector, settings)
