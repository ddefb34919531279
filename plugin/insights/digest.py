"""The daily digest: yesterday's figures and what is waiting now, by email and as an event.

Yesterday is the UTC day before the moment the digest is made. Its figures are the dashboard's
(`figures.compute` over that day); what is waiting is measured at that moment. Sending is
idempotent per day: each subscription remembers the day it last got, and the outbound event is
emitted once per day (an audit row records it), so a scheduler that fires twice sends nothing new.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.untrusted import printable

from ..outbound.events import DIGEST, emit
from ..policy import Policy
from ..store import states
from ..store.models import AuditRow, utcnow
from . import mail
from .cohort import Period
from .figures import Report, compute, plain, waiting_past_target
from .models import DigestSubscription

EVENT_TYPE = DIGEST
OLDEST_SHOWN = 5


@dataclass(frozen=True)
class Digest:
    day: date
    made_at: datetime
    report: Report

    def payload(self) -> dict[str, Any]:
        """The event body for chat tools: small, flat, and stable."""
        r = self.report
        return plain({
            "day": self.day.isoformat(),
            "received": r.received, "replied": r.replied, "skipped": r.skipped,
            "response_rate": r.response_rate,
            "median_hours_to_reply": r.timing.median_hours,
            "offers_made": sum(o.count for o in r.offers),
            "money_offered": r.offer_totals,
            "waiting_past_target": r.waiting_total,
            "response_target_hours": r.target_hours,
            "oldest_waiting": [{"id": w.id, "platform": w.platform, "source": w.source,
                                "rating": w.rating, "status": w.status,
                                "hours_waiting": round(w.age_hours, 1)} for w in r.waiting],
            "escalations_open": r.escalations_open,
            "made_at": self.made_at,
        })

    def text(self) -> str:
        r = self.report
        rate = f"{r.response_rate:.0%}" if r.response_rate is not None else "—"
        median = f"{r.timing.median_hours:.1f} h" if r.timing.median_hours is not None else "—"
        money = ", ".join(f"{v:.2f} {c}" for c, v in r.offer_totals.items()) or "none"
        lines = [
            f"MakeRight digest for {self.day.isoformat()} (UTC)",
            "",
            f"Reviews received: {r.received} ({r.skipped} skipped)",
            f"Replies posted to them so far: {r.replied} (response rate {rate})",
            f"Median time to reply: {median}",
            f"Offers made: {sum(o.count for o in r.offers)} (money offered: {money})",
            "",
            f"Waiting past the {r.target_hours} h target now: {r.waiting_total}",
        ]
        lines += [f"  #{w.id} {w.platform} {w.source} {w.rating}★ {w.status.replace('_', ' ')}, "
                  f"waiting {w.age_hours:.0f} h" for w in r.waiting]
        lines += [f"Open escalations: {r.escalations_open}", ""]
        return printable("\n".join(lines))


def make(session: Session, policy: Policy, now: datetime | None = None) -> Digest:
    now = now or utcnow()
    day = (now - timedelta(days=1)).date()
    start = datetime.combine(day, time(), tzinfo=UTC)
    report = compute(session, policy, Period(start, start + timedelta(days=1)))
    report.waiting, report.waiting_total = waiting_past_target(session, policy, now,
                                                               OLDEST_SHOWN)
    return Digest(day, now, report)


def subscribe(session: Session, email: str, user: str | None = None) -> DigestSubscription:
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError(f"{email!r} is not an email address")
    found = session.scalar(select(DigestSubscription).where(DigestSubscription.email == email))
    if found is None:
        found = DigestSubscription(email=email, user_name=user)
        session.add(found)
    found.enabled = True
    session.flush()
    return found


def unsubscribe(session: Session, email: str) -> bool:
    found = session.scalar(select(DigestSubscription)
                           .where(DigestSubscription.email == email.strip().lower()))
    if found is None or not found.enabled:
        return False
    found.enabled = False
    return True


@dataclass(frozen=True)
class SendResult:
    emailed: list[str]
    already_sent: list[str]
    event: str  # "emitted" or "already emitted"


def send(session: Session, digest: Digest, settings: mail.SmtpSettings | None) -> SendResult:
    """Email every subscriber who has not had this day's digest, and emit the event once."""
    subscriptions = list(session.scalars(select(DigestSubscription)
                                         .where(DigestSubscription.enabled.is_(True))
                                         .order_by(DigestSubscription.email)))
    due = [s for s in subscriptions if s.last_sent_for != digest.day]
    if due:
        if settings is None:
            raise mail.MailError("subscribers are due a digest but no SMTP server is configured")
        mail.send(settings, [_message(digest, s.email, settings.from_address) for s in due])
        for subscription in due:
            subscription.last_sent_for = digest.day
    event = _emit_once(session, digest)
    return SendResult([s.email for s in due],
                      [s.email for s in subscriptions if s not in due], event)


def _emit_once(session: Session, digest: Digest) -> str:
    marker = f"digest for {digest.day.isoformat()}"
    done = session.scalar(select(AuditRow.id).where(AuditRow.action == "digest_emitted",
                                                    AuditRow.reason == marker))
    if done is not None:
        return "already emitted"
    emit(session, EVENT_TYPE, digest.payload())
    states.record(session, None, actor="digest", action="digest_emitted", reason=marker)
    return "emitted"


def _message(digest: Digest, to: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = (f"MakeRight: {digest.report.received} reviews on "
                          f"{digest.day.isoformat()}, {digest.report.waiting_total} waiting")
    message["From"] = sender
    message["To"] = to
    message.set_content(digest.text())
    return message
