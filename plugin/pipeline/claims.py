"""Claiming work: a compare-and-set state change plus a lease, in one short transaction.

On PostgreSQL the candidates are read with `SELECT ... FOR UPDATE SKIP LOCKED` on the reviews
table alone (no joins: SKIP LOCKED with joins has surprised people), so concurrent workers pass
over each other's rows instead of queueing on them; the CAS update then moves the row. On SQLite
every write transaction already begins with `BEGIN IMMEDIATE`, so claims are serialised and the
same CAS is enough. A claim carries everything the poster needs, so no transaction stays open
while a platform is called.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from connectors.base import Review

from ..actions import ActionError
from ..moderation import GOOGLE, closest, replies_since_approval
from ..store import states
from ..store.locking import locked
from ..store.models import DraftRow, ReviewRow, utcnow
from ..store.reviews import current_draft, text_hash, to_review
from .models import ReplyAttemptRow

AUTO_APPROVER = "auto-approve"


class PostRefused(ActionError):
    """A post that must not happen (wrong state, no approval); nothing was sent anywhere.

    An `ActionError`, so the queue and the API show it as a refusal, never as a crash.
    """

    def __init__(self, message: str):
        super().__init__("invalid_state", message)


@dataclass(frozen=True)
class PostClaim:
    """A review held in `posting` by one worker, with the approved text to send."""

    review_id: int
    worker: str
    lease_until: datetime
    text: str
    text_hash: str
    review: Review
    content_hash: str
    approved_by: str
    attempts: int
    #: `normal_hash` of every text we ever tried to write for this review, this one included.
    ours: frozenset[str]
    attempt_id: int | None = None
    #: `normal_hash` of the one reply someone else wrote that a person allowed us to replace.
    overwrite_hash: str | None = None
    overwrite_by: str | None = None
    #: How close the text comes to a reply its location posted since the approval (Google).
    repeat_score: float = 0.0


@dataclass(frozen=True)
class DraftClaim:
    review_id: int
    worker: str
    content_hash: str
    review: Review


def lockable(session: Session, query: Select) -> Select:
    """Add `FOR UPDATE SKIP LOCKED` where the engine has it: workers share these queues."""
    return locked(query, session, skip_locked=True)


def _due(now: datetime):
    return or_(ReviewRow.next_attempt_at.is_(None), ReviewRow.next_attempt_at <= now)


def normal_hash(text: str) -> str:
    """Hash of a reply as platforms may hand it back: Unicode NFC, whitespace collapsed."""
    return text_hash(" ".join(unicodedata.normalize("NFC", text).split()))


def _ours(session: Session, review_id: int, text: str | None = None) -> frozenset[str]:
    """`normal_hash` of every draft text we ever tried to write for this review.

    `text` is the one being attempted now; when it is the only one ever tried (the usual
    first post) the drafts need not be read.
    """
    tried = set(session.scalars(select(ReplyAttemptRow.text_hash)
                                .where(ReplyAttemptRow.review_id == review_id)))
    if text is not None and tried == {text_hash(text)}:
        return frozenset({normal_hash(text)})
    texts = session.scalars(select(DraftRow.text).where(DraftRow.review_id == review_id))
    return frozenset(normal_hash(t) for t in texts if text_hash(t) in tried)


def public_reply_is_ours(session: Session, row: ReviewRow) -> bool | None:
    """Whether the public reply on record is one we wrote; None when there is none."""
    if not (row.platform_reply or "").strip():
        return None
    return normal_hash(row.platform_reply or "") in _ours(session, row.id)


def _refuse_reason(row: ReviewRow, draft: DraftRow | None) -> str | None:
    """Why an approved review must go back to a person instead of being posted."""
    if not row.answerable:
        return "Replies to this source cannot be posted through its connector"
    if not row.approved_by or not row.approved_text_hash:
        return "The approval records no approver or no approved text"
    if draft is None or text_hash(draft.text) != row.approved_text_hash:
        return "The reply text differs from the text that was approved; approve it again"
    return None


def _drafts(session: Session, rows: list[ReviewRow]) -> dict[int, DraftRow]:
    """The current draft of each row, by draft id, in one query."""
    ids = [row.current_draft_id for row in rows if row.current_draft_id]
    if not ids:
        return {}
    return {draft.id: draft for draft in session.scalars(select(DraftRow)
                                                          .where(DraftRow.id.in_(ids)))}


def _tried(session: Session, review_ids: list[int]) -> dict[int, set[str]]:
    """`text_hash` of every text we ever tried to write, per review, in one query."""
    tried: dict[int, set[str]] = {review_id: set() for review_id in review_ids}
    for review_id, hashed in session.execute(
            select(ReplyAttemptRow.review_id, ReplyAttemptRow.text_hash)
            .where(ReplyAttemptRow.review_id.in_(review_ids))):
        tried[review_id].add(hashed)
    return tried


def _repeat_scores(session: Session, rows: list[ReviewRow],
                   texts: dict[int, str]) -> dict[int, float]:
    """How close each Google reply comes to one its location posted since the approval.

    Replies claimed earlier in the same batch at the same location count as posted: they go
    out just before, and Google would hold the later one as REPETITIVE all the same.
    """
    google = [row for row in rows if row.platform == GOOGLE]
    if not google:
        return {}
    posted = replies_since_approval(session, google)
    scores: dict[int, float] = {}
    ahead: dict[str | None, list[str]] = {}
    for row in google:
        text = texts[row.id]
        scores[row.id] = closest(text, posted.get(row.id, []) + ahead.get(row.source, []))
        ahead.setdefault(row.source, []).append(text)
    return scores


def _take(session: Session, rows: list[ReviewRow], worker: str, lease: timedelta,
          now: datetime, actor: str) -> list[PostClaim]:
    """Claim `rows` (held by this transaction, all approved) in a few statements for the lot.

    One query for their drafts, one UPDATE and one audit executemany for the state change,
    one INSERT of their attempt rows, one read of the texts tried before: a batch of claims
    costs about what one did.
    """
    if not rows:
        return []
    drafts = _drafts(session, rows)
    taken: list[tuple[ReviewRow, DraftRow]] = []
    for row in rows:
        draft = drafts.get(row.current_draft_id or 0)
        problem = _refuse_reason(row, draft)
        if problem:
            states.transition(session, row, states.NEEDS_ATTENTION, actor=actor, reason=problem,
                              expected=states.APPROVED)
        else:
            assert draft is not None
            taken.append((row, draft))
    if not taken:
        return []
    until = now + lease
    held = [row for row, _ in taken]
    tried = _tried(session, [row.id for row in held])
    states.transition_many(session, held, states.POSTING, actor=actor, expected=states.APPROVED,
                           reason=f"Claimed by {worker}", claimed_by=worker, lease_until=until)
    attempts = [ReplyAttemptRow(review_id=row.id, worker=worker,
                                text_hash=row.approved_text_hash, started_at=now)
                for row in held]
    session.add_all(attempts)
    session.flush()
    scores = _repeat_scores(session, held, {row.id: draft.text for row, draft in taken})
    claims = []
    for (row, draft), attempt in zip(taken, attempts, strict=True):
        hashed = text_hash(draft.text)
        ours = frozenset({normal_hash(draft.text)}) if tried[row.id] <= {hashed} \
            else _ours(session, row.id)
        claims.append(PostClaim(
            review_id=row.id, worker=worker, lease_until=until, text=draft.text,
            text_hash=row.approved_text_hash or "", review=to_review(row),
            content_hash=row.content_hash, approved_by=row.approved_by or "",
            attempts=row.attempts, ours=ours, attempt_id=attempt.id,
            overwrite_hash=row.overwrite_reply_hash, overwrite_by=row.overwrite_by,
            repeat_score=scores.get(row.id, 0.0)))
    return claims


def claim_for_posting(session: Session, worker: str, *, lease: timedelta, limit: int = 1,
                      now: datetime | None = None,
                      requested_only: bool = False) -> list[PostClaim]:
    """Claim up to `limit` approved reviews that are due.

    Replies a person asked to post now come first (oldest request first), then the rest,
    oldest approval first; `requested_only` (the kill switch is on) takes only the former.
    Each query walks an index on (status, ...), so a backlog of thousands is never sorted.
    Rows whose text no longer matches the approval go to needs_attention instead.
    """
    now = now or utcnow()
    approved = select(ReviewRow).where(ReviewRow.status == states.APPROVED, _due(now))
    queries = [approved.where(ReviewRow.post_requested_at.is_not(None))
               .order_by(ReviewRow.post_requested_at, ReviewRow.id)]
    if not requested_only:
        queries.append(approved.order_by(ReviewRow.approved_at, ReviewRow.id))
    rows: list[ReviewRow] = []
    for query in queries:
        room = limit - len(rows)
        if room <= 0:
            break
        taken = {row.id for row in rows}
        rows.extend(row for row in session.scalars(lockable(session, query.limit(room))).all()
                    if row.id not in taken)
    return _take(session, rows, worker, lease, now, worker)


def claim_review(session: Session, review_id: int, worker: str, *, lease: timedelta,
                 actor: str) -> PostClaim | None:
    """Claim one named review for a person's explicit post; refuse unless it is approved.

    None means the approved text no longer matches and the review went to needs_attention.
    """
    query = locked(select(ReviewRow).where(ReviewRow.id == review_id), session)
    row = session.scalars(query).first()
    if row is None:
        raise PostRefused(f"review {review_id} does not exist")
    if row.status != states.APPROVED:
        raise PostRefused(f"review {review_id} is {row.status}; only an approved reply is posted")
    claims = _take(session, [row], worker, lease, utcnow(), actor)
    return claims[0] if claims else None


def claim_expired_posts(session: Session, worker: str, *, lease: timedelta, limit: int,
                        now: datetime | None = None) -> list[PostClaim]:
    """Take over reviews left in `posting` past their lease, for the reaper to reconcile.

    The status stays `posting`; only the lease changes hands, so the original worker, should it
    still be alive, finds its claim gone when it tries to record an outcome.
    """
    now = now or utcnow()
    query = (select(ReviewRow).where(ReviewRow.status == states.POSTING,
                                     ReviewRow.lease_until < now)
             .order_by(ReviewRow.lease_until).limit(limit))
    claims = []
    for row in session.scalars(lockable(session, query)).all():
        draft = current_draft(session, row)
        previous = row.claimed_by
        row.claimed_by, row.lease_until = worker, now + lease
        states.record(session, row, actor=worker, action="lease_expired",
                      reason=f"{previous or 'a worker'} held the post past its lease")
        claims.append(PostClaim(
            review_id=row.id, worker=worker, lease_until=row.lease_until,
            text=draft.text if draft else "", text_hash=row.approved_text_hash or "",
            review=to_review(row), content_hash=row.content_hash,
            approved_by=row.approved_by or "", attempts=row.attempts,
            ours=_ours(session, row.id), overwrite_hash=row.overwrite_reply_hash,
            overwrite_by=row.overwrite_by))
    session.flush()
    return claims


def claim_new(session: Session, worker: str, *, lease: timedelta, limit: int,
              now: datetime | None = None, ids: list[int] | None = None) -> list[DraftClaim]:
    """Lease new reviews for drafting, so two workers never draft the same one.

    There is no "drafting" state: the lease alone marks the review taken, and it expires by
    itself if the worker dies, after which another worker drafts it.
    """
    now = now or utcnow()
    query = (select(ReviewRow).where(ReviewRow.status == states.NEW,
                                     or_(ReviewRow.lease_until.is_(None),
                                         ReviewRow.lease_until < now))
             .order_by(ReviewRow.id).limit(limit))
    if ids is not None:
        query = query.where(ReviewRow.id.in_(ids))
    claims = []
    for row in session.scalars(lockable(session, query)).all():
        row.claimed_by, row.lease_until = worker, now + lease
        claims.append(DraftClaim(row.id, worker, row.content_hash, to_review(row)))
    session.flush()
    return claims


def finish_draft_claims(session: Session, claims: list[DraftClaim]) -> dict[int, ReviewRow]:
    """End a drafting batch's leases, reading its rows in one locked query.

    The rows to store drafts on, by id, still leased to us: the caller releases their lease in
    the same UPDATE that stores the draft. The stale ones get their lease released here: stale
    means the review left `new`, or the customer edited it while we drafted (its next draft
    must use the new words). A row another worker took over after our lease expired is left
    to that worker.
    """
    if not claims:
        return {}
    query = locked(select(ReviewRow).where(ReviewRow.id.in_([c.review_id for c in claims])),
                   session)
    found = {row.id: row for row in session.scalars(query)}
    fresh: dict[int, ReviewRow] = {}
    for claim in claims:
        row = found.get(claim.review_id)
        if row is None or row.claimed_by != claim.worker:
            continue
        if row.status != states.NEW or row.content_hash != claim.content_hash:
            row.claimed_by, row.lease_until = None, None
        else:
            fresh[row.id] = row
    return fresh
