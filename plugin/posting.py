"""A person asking for an approved reply to be posted, from the queue or the API.

The pipeline's poster is the one place that writes to a platform (claim, read the current
reply, write exactly the approved bytes, record the outcome), and it runs in a worker. A
request never calls a platform and never waits: it records who asked, and, when someone else's
reply is public, their audited permission to replace exactly that reply. The worker takes
requested replies first (even while the pipeline is paused), and the page or the API client
follows the review's status to the outcome (`progress`).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from connectors.base import reply_length

from .actions import ActionError, Actor, lock, require
from .pipeline.claims import normal_hash, public_reply_is_ours
from .store import states
from .store.models import ReviewRow, utcnow
from .store.reviews import current_draft, text_hash

AUDIT_QUOTE = 300


def request_post(session: Session, row: ReviewRow, actor: Actor, *,
                 overwrite_reason: str | None = None,
                 seen_reply_hash: str | None = None) -> bool:
    """Ask the workers to post this approved reply now; False if one is posting it already.

    `overwrite_reason` is the person's explicit permission to replace the public reply someone
    else wrote: only that reply (by hash; `seen_reply_hash` is the one their page showed),
    only for this approval, and written to the audit log with the text it replaces.
    """
    require(actor, "approver")
    lock(session, row)
    if row.status == states.POSTING:
        if overwrite_reason is None:
            return False
        raise ActionError("invalid_state", "A worker is posting this reply right now; if it "
                                           "finds someone else's reply it stops, and replacing "
                                           "that reply can be confirmed then.")
    if row.status != states.APPROVED:
        raise ActionError("invalid_state", f"A {row.status.replace('_', ' ')} review cannot be "
                                           "posted; approve it first.")
    draft = current_draft(session, row)
    if draft is None or row.approved_text_hash is None \
            or text_hash(draft.text) != row.approved_text_hash:
        raise ActionError("not_approved_text", "The reply changed after it was approved; approve "
                                               "it again before posting.")
    used, limit, unit = reply_length(draft.text, row.platform)
    if used > limit:
        raise ActionError("too_long", f"The reply is {used} {unit}; {row.platform} allows "
                                      f"{limit} {unit}.")
    if overwrite_reason is not None:
        _permit_overwrite(session, row, actor, overwrite_reason, seen_reply_hash)
    row.post_requested_by, row.post_requested_at = actor.name, utcnow()
    row.next_attempt_at = None
    states.record(session, row, actor=actor.name, action="post_requested",
                  reason="Asked to post now; a worker posts it next")
    session.flush()
    return True


def _permit_overwrite(session: Session, row: ReviewRow, actor: Actor, reason: str,
                      seen_reply_hash: str | None) -> None:
    reason = reason.strip()
    if not reason:
        raise ActionError("reason_required", "Replacing a public reply needs a written reason; "
                                             "it is kept in the audit log.")
    if public_reply_is_ours(session, row) is not False:
        raise ActionError("no_public_reply", "There is no reply by someone else on record to "
                                             "replace; post without replacing.")
    found = normal_hash(row.platform_reply or "")
    if seen_reply_hash is not None and seen_reply_hash != found:
        raise ActionError("public_reply_changed", "The public reply changed since the page was "
                                                  "loaded; read the new one and confirm again.")
    row.overwrite_by, row.overwrite_reason = actor.name, reason[:1000]
    row.overwrite_reply_hash = found
    states.record(session, row, actor=actor.name, action="overwrite_confirmed",
                  reason=f"{reason[:1000]}. Replaces: “{(row.platform_reply or '')[:AUDIT_QUOTE]}”")


@dataclass(frozen=True)
class Progress:
    """Where a requested post stands: still on its way, or an outcome to tell the person."""

    done: bool
    outcome: str


def progress(row: ReviewRow) -> Progress:
    """The outcome key of a post that was asked for (see the queue's MESSAGES)."""
    if row.status == states.POSTING:
        return Progress(False, "posting")
    if row.status == states.APPROVED:
        if row.last_error:
            return Progress(True, "post_retry")
        if row.next_attempt_at is not None and row.next_attempt_at > utcnow():
            return Progress(True, "post_waiting")
        return Progress(False, "posting")
    if row.status == states.POSTED:
        return Progress(True, "posted" if row.public_state in (None, "published")
                        else "posted_pending")
    if row.status == states.FAILED:
        return Progress(True, "post_failed")
    if row.status == states.NEEDS_ATTENTION:
        # Posted under this approval, then the customer edited the review meanwhile.
        posted = row.posted_at is not None and row.approved_at is not None \
            and row.posted_at >= row.approved_at
        return Progress(True, "posted_follow_up" if posted else "post_held")
    return Progress(True, "post_stopped")
