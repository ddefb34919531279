"""What people (and integrators) can do to a review, with the permission and state rules.

The web queue, the REST API and the CLI all call these functions, so a rule — who may approve,
when an override needs a reason, that approval re-checks the draft — holds everywhere at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from connectors.text import strip_invisible

from .classify import classifier_for
from .drafting import Drafter, draft_review
from .drafts import Draft
from .errors import ActionError
from .guardrails import check
from .moderation import checked_for_google
from .policy import Policy
from .store import states
from .store.locking import refresh_locked
from .store.models import DraftRow, ReviewRow, utcnow
from .store.reviews import current_draft, save_draft, text_hash, to_review

ROLES = ("viewer", "editor", "approver", "admin")
# Violations no written reason can excuse: the platform would refuse the reply anyway.
UNOVERRIDABLE = frozenset({"empty", "too_long"})


class _Unchanged:
    """The offer a person did not touch (a form without the field, a body without the key)."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


@dataclass(frozen=True)
class Actor:
    """Who acts: a person with a role, an API token mapped to a role, or the system."""

    name: str
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


SYSTEM = Actor("system", "admin")


def _reason(text: str | None) -> str:
    """A reason as the audit log keeps it: what a person can read, nothing hidden in it."""
    return strip_invisible(text or "").strip()


def require(actor: Actor, role: str) -> None:
    if not actor.can(role):
        raise ActionError("forbidden", f"{actor.name} ({actor.role}) may not do this; it needs "
                                       f"the {role} role")


def _draft_of(session: Session, row: ReviewRow) -> DraftRow:
    found = current_draft(session, row)
    if found is None:
        raise ActionError("no_draft", "This review has no draft yet.")
    return found


def lock(session: Session, row: ReviewRow) -> None:
    """Re-read the review under a row lock, so two people acting at once take turns.

    See store/locking.py for how each engine does it.
    """
    refresh_locked(session, row)


def plain_text(text: str) -> str:
    """A reply as a person typed it: browsers send CRLF line breaks; platforms count LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def check_version(session: Session, row: ReviewRow, version: int | None) -> DraftRow | None:
    """The current draft, if it is the version the person started from; refuse otherwise.

    `version` None means the caller did not say (an API edit that opts out); a person's
    screen always says, so their edit can never silently replace one saved meanwhile.
    """
    current = current_draft(session, row)
    if version is None:
        return current
    if current is None or current.version != version:
        now = f"version {current.version} by {current.created_by}" if current else "no draft"
        raise ActionError("draft_changed",
                          f"The reply changed while you were looking at version {version}: "
                          f"{now} is the current one now (someone else saved it, or it was "
                          "drafted again). Nothing was saved, approved or posted; compare it "
                          "with your text and try again.")
    return current


def recheck(session: Session, row: ReviewRow, policy: Policy, text: str,
            offer_id: str | None, engine: str = "human") -> Draft:
    """A draft object for text a person wrote, checked by the same guardrails as any engine."""
    review = to_review(row)
    classification = classifier_for(policy).classify(review)
    offer = policy.offer(offer_id) if offer_id else None
    if offer_id and offer is None:
        raise ActionError("unknown_offer", f"The policy has no offer {offer_id!r}.")
    previous = current_draft(session, row)
    draft = Draft(text=text, engine=engine, language=previous.language if previous else
                  (classification.language or policy.default_language),
                  platform=row.platform, review_language=classification.language,
                  categories=classification.categories,
                  escalation_reasons=classification.escalation_reasons, offer=offer)
    draft.violations = check(draft, review, policy, classification)
    draft.policy = policy.label
    return checked_for_google(session, row, draft)


def approval_concerns(session: Session, row: ReviewRow, policy: Policy, text: str,
                      offer_id: str | None, engine: str = "human"
                      ) -> tuple[list[str], list[str]]:
    """(what no reason can excuse, everything an approval needs a written reason for).

    Checked now, against the policy as it is now, so a page never shows a draft as clean
    because it was clean when saved.
    """
    offer = policy.offer(offer_id) if offer_id else None
    draft = recheck(session, row, policy, text, offer_id, engine)
    blocking = [v.message for v in draft.violations if v.code in UNOVERRIDABLE]
    concerns = [v.message for v in draft.violations]
    if row.escalated:
        concerns.append("The review is escalated (" + ", ".join(row.escalation_reasons) + ").")
    if offer is not None and offer.manager_approval:
        concerns.append(f"The offer “{offer.label}” needs a manager's approval.")
    return blocking, concerns


def edit_draft(session: Session, row: ReviewRow, policy: Policy, actor: Actor, text: str,
               offer_id: str | None) -> DraftRow:
    """Save a person's edit as a new draft version; an approved review is un-approved first."""
    require(actor, "editor")
    if row.status == states.APPROVED:
        states.transition(session, row, states.DRAFTED, actor=actor.name,
                          reason="Edited after approval", approved_by=None, approved_at=None,
                          approved_text_hash=None)
    if row.status == states.POSTING:
        raise ActionError("invalid_state", "A worker is posting this reply right now; wait "
                                           "for the outcome before changing it.")
    if row.status not in states.EDITABLE:
        raise ActionError("invalid_state", f"A {row.status} review cannot be edited.")
    draft = recheck(session, row, policy, text.strip(), offer_id)
    return save_draft(session, row, draft, actor=actor.name)


def regenerate(session: Session, row: ReviewRow, policy: Policy, actor: Actor,
               drafter: Drafter | None = None, instruction: str | None = None,
               prepared: Prepared | None = None) -> DraftRow:
    """A new draft version from the drafter, or the one `prepare_redraft` wrote beforehand."""
    require(actor, "editor")
    instruction = _reason(instruction) or None
    if row.status == states.APPROVED:
        states.transition(session, row, states.DRAFTED, actor=actor.name,
                          reason="Regenerated after approval", approved_by=None,
                          approved_at=None, approved_text_hash=None)
    if row.status not in states.EDITABLE:
        raise ActionError("invalid_state", f"A {row.status} review cannot be redrafted.")
    if prepared is not None:
        if prepared.content_hash != row.content_hash:
            raise ActionError("draft_changed", "The customer edited the review while the new "
                                               "draft was being written; look at the edit and "
                                               "redraft.")
        return save_draft(session, row, prepared.draft, actor=actor.name,
                          instruction=prepared.instruction)
    draft = draft_review(to_review(row), policy, drafter, instruction)
    return save_draft(session, row, draft, actor=actor.name, instruction=instruction)


@dataclass(frozen=True)
class Prepared:
    """A draft written before the transaction that stores it, for the review as it read then."""

    draft: Draft
    content_hash: str
    instruction: str | None


def prepare_redraft(row: ReviewRow, policy: Policy, drafter: Drafter | None,
                    instruction: str | None = None) -> Prepared:
    """Draft without holding a transaction: a model call takes seconds, and the drafter counts
    tokens and reads house examples in units of work of its own, which on SQLite would wait for
    the caller's write lock. The caller ends its transaction first and hands the result to
    `regenerate`, which refuses it if the customer edited the review meanwhile."""
    instruction = _reason(instruction) or None
    return Prepared(draft_review(to_review(row), policy, drafter, instruction), row.content_hash,
                    instruction)


def save_as_seen(session: Session, row: ReviewRow, policy: Policy, actor: Actor, *,
                 version: int | None, text: str,
                 offer_id: str | None | _Unchanged = UNCHANGED) -> DraftRow:
    """Save the text on a person's screen as a new version, unless it is what is stored.

    Refused (`draft_changed`) if the draft moved on since `version`; the text is compared
    after normalising line breaks and outer whitespace, which a browser may change.
    """
    lock(session, row)
    current = check_version(session, row, version)
    text = plain_text(text)
    if not text:
        raise ActionError("empty", "The reply is empty.")
    if isinstance(offer_id, _Unchanged):
        offer = current.offer_id if current is not None else None
    else:
        offer = offer_id
    if current is not None and current.text.strip() == text and current.offer_id == offer:
        return current
    return edit_draft(session, row, policy, actor, text, offer)


def approve_as_seen(session: Session, row: ReviewRow, policy: Policy, actor: Actor, *,
                    version: int, text: str | None = None,
                    offer_id: str | None | _Unchanged = UNCHANGED,
                    override_reason: str | None = None) -> DraftRow:
    """Approve exactly what the person saw: their on-screen text, based on `version`.

    An edit is saved and approved in the same transaction; if the approval is refused, the
    caller's rollback undoes the edit too, so nothing is half done. A reply that is already
    approved with this very text stays approved.
    """
    require(actor, "approver")
    if text is None:
        lock(session, row)
        stored = check_version(session, row, version) or _draft_of(session, row)
    else:
        stored = save_as_seen(session, row, policy, actor, version=version, text=text,
                              offer_id=offer_id)
    if row.status in (states.APPROVED, states.POSTING) \
            and row.approved_text_hash == text_hash(stored.text):
        return stored
    approve(session, row, policy, actor, override_reason)
    return stored


def approve(session: Session, row: ReviewRow, policy: Policy, actor: Actor,
            override_reason: str | None = None, *, note: str | None = None,
            at: datetime | None = None, post_after: datetime | None = None,
            flush: bool = True) -> None:
    """Approve the current draft after checking it again; the one way anything is approved.

    A draft with violations, an escalation, or an offer that needs a manager can be approved only
    by an approver who writes down why; the reason lands in the audit log. Auto-approval comes
    through here too, with its own audit `note` and a `post_after` time that delays posting.
    """
    require(actor, "approver")
    stored = _draft_of(session, row)
    if not row.answerable:
        raise ActionError("not_answerable", "Replies to this source cannot be posted here; "
                                            "copy the reply instead.")
    blocking, concerns = approval_concerns(session, row, policy, stored.text, stored.offer_id,
                                           stored.engine)
    if blocking:
        raise ActionError("cannot_post", "This reply can never be posted: " + " ".join(blocking))
    reason = note or "Approved"
    if concerns:
        if not _reason(override_reason):
            raise ActionError("needs_override", "Approval needs a written reason: "
                              + " ".join(concerns))
        reason = f"Approved with override: {_reason(override_reason)} (concerns: " \
                 f"{' '.join(concerns)})"
    if row.status not in (states.DRAFTED, states.NEEDS_ATTENTION, states.FAILED):
        raise ActionError("invalid_state", f"A {row.status} review cannot be approved.")
    schedule: dict[str, Any] = {} if post_after is None else {"attempts": 0,
                                                              "next_attempt_at": post_after}
    states.transition(session, row, states.APPROVED, actor=actor.name, reason=reason,
                      approved_by=actor.name, approved_at=at or utcnow(),
                      approved_text_hash=text_hash(stored.text), last_error=None, flush=flush,
                      **schedule)


def unapprove(session: Session, row: ReviewRow, actor: Actor, reason: str = "") -> None:
    require(actor, "approver")
    if row.status != states.APPROVED:
        raise ActionError("invalid_state", f"A {row.status} review is not approved.")
    states.transition(session, row, states.DRAFTED, actor=actor.name,
                      reason=_reason(reason) or "Approval withdrawn", approved_by=None,
                      approved_at=None, approved_text_hash=None)


def skip(session: Session, row: ReviewRow, actor: Actor, reason: str) -> None:
    require(actor, "editor")
    reason = _reason(reason)
    if not reason:
        raise ActionError("reason_required", "Skipping needs a reason.")
    if not states.can_move(row.status, states.SKIPPED):
        raise ActionError("invalid_state", f"A {row.status} review cannot be skipped.")
    states.transition(session, row, states.SKIPPED, actor=actor.name, reason=reason)


def escalate(session: Session, row: ReviewRow, actor: Actor, reason: str) -> None:
    require(actor, "editor")
    reason = _reason(reason)
    if not reason:
        raise ActionError("reason_required", "Escalating needs a reason.")
    if not states.can_move(row.status, states.NEEDS_ATTENTION):
        raise ActionError("invalid_state", f"A {row.status} review cannot be escalated.")
    row.escalated = True
    row.escalation_reasons = sorted({*row.escalation_reasons, "manual"})
    states.transition(session, row, states.NEEDS_ATTENTION, actor=actor.name,
                      reason=f"Escalated: {reason}")
