"""Opt-in auto-approval: 5-star praise with nothing to check may be posted without a person.

Off unless the policy's `[auto_approve] enabled = true`. Only reviews at or above `min_rating`
(never below 4, whatever the policy says) with no problem categories, no escalation, no offer,
no guardrail violation and no pending follow-up qualify; the draft is checked again at approval.
Each day at most `daily_cap` reviews are auto-approved, each waits `delay_minutes` before it is
posted (a person can still withdraw it), and the kill switch stops it all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, func, select, text
from sqlalchemy.orm import Session

from ..actions import Actor, approve, recheck
from ..errors import ActionError
from ..moderation import prefetch_recent_replies
from ..policy import Policy
from ..store import states
from ..store.db import Database
from ..store.models import AuditRow, DraftRow, ReviewRow, utcnow
from ..store.reviews import current_draft
from .claims import AUTO_APPROVER, lockable
from .control import is_paused
from .logs import event

RATING_FLOOR = 4
# Approves through actions.approve like a person with the approver role would.
AUTO_ACTOR = Actor(AUTO_APPROVER, "approver")


@dataclass(frozen=True)
class Rules:
    enabled: bool = False
    min_rating: int = 5
    daily_cap: int = 0
    delay: timedelta = timedelta(minutes=30)

    @classmethod
    def from_policy(cls, policy: Policy) -> Rules:
        auto = policy.auto_approve or {}
        return cls(enabled=bool(auto.get("enabled", False)),
                   min_rating=max(int(auto.get("min_rating", 5)), RATING_FLOOR),
                   daily_cap=max(int(auto.get("daily_cap", 0)), 0),
                   delay=timedelta(minutes=int(auto.get("delay_minutes", 30))))


def approved_today(session: Session, now: datetime) -> int:
    """Auto-approvals since midnight UTC, counted from the audit log, which is never edited."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return session.scalar(select(func.count(AuditRow.id)).where(
        AuditRow.actor == AUTO_APPROVER, AuditRow.action == "transition",
        AuditRow.to_state == states.APPROVED, AuditRow.at >= midnight)) or 0


def _serialise(session: Session) -> bool:
    """One auto-approver at a time on PostgreSQL, so two workers cannot both fill the cap.

    False when another worker is approving right now: its pass takes the candidates there are,
    so this one goes on to its other steps instead of waiting to find nothing left.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtext('makeright.auto_approve'))")))


def candidates(session: Session, rules: Rules, limit: int):
    empty = "[]"
    query = (select(ReviewRow).where(
        ReviewRow.status == states.DRAFTED, ReviewRow.rating >= rules.min_rating,
        ReviewRow.escalated.is_(False), ReviewRow.has_offer.is_(False),
        ReviewRow.violation_count == 0, ReviewRow.follow_up.is_(False),
        ReviewRow.answerable.is_(True), cast(ReviewRow.categories, String) == empty,
        cast(ReviewRow.escalation_reasons, String) == empty)
        .order_by(ReviewRow.id).limit(limit))
    return session.scalars(lockable(session, query)).all()


def auto_approve(db: Database, policy: Policy, *, limit: int = 100,
                 now: datetime | None = None) -> int:
    """Approve the reviews that qualify; the number approved."""
    rules = Rules.from_policy(policy)
    if not rules.enabled or rules.daily_cap == 0:
        return 0
    now = now or utcnow()
    approved = 0
    with db.session() as session:
        if not _serialise(session) or is_paused(session):
            return 0
        room = rules.daily_cap - approved_today(session, now)
        if room <= 0:
            return 0
        rows = candidates(session, rules, min(limit, room))
        # Their drafts and their locations' recent replies in two queries for the lot; the
        # checks below find them in the session instead of reading them row by row.
        wanted = [row.current_draft_id for row in rows if row.current_draft_id]
        # Held here: the session's identity map keeps rows only while something refers to them.
        drafts = session.scalars(select(DraftRow).where(DraftRow.id.in_(wanted))).all() \
            if wanted else []
        prefetch_recent_replies(session, rows)
        # Their audit rows go in together when the transaction commits, not one by one.
        with session.no_autoflush, states.audit_batch(session):
            for row in rows:
                stored = current_draft(session, row)
                if stored is None or stored.offer_id is not None:
                    continue
                draft = recheck(session, row, policy, stored.text, None, stored.engine)
                concerns = [v.code for v in draft.violations] + draft.escalation_reasons
                if concerns or draft.categories:
                    states.transition(session, row, states.NEEDS_ATTENTION, actor=AUTO_APPROVER,
                                      reason="Not auto-approved; the re-check found: "
                                             + ", ".join(concerns or draft.categories),
                                      flush=False)
                    continue
                try:
                    approve(session, row, policy, AUTO_ACTOR, at=now,
                            post_after=now + rules.delay, flush=False,
                            note=f"Auto-approved ({row.rating} stars, no concerns); posts after "
                                 f"{rules.delay}")
                except ActionError as exc:
                    states.transition(session, row, states.NEEDS_ATTENTION, actor=AUTO_APPROVER,
                                      reason=f"Not auto-approved: {exc}", flush=False)
                    continue
                approved += 1
        del drafts
    if approved:
        event("auto_approve", approved=approved)
    return approved
