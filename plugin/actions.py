"""What people (and integrators) can do to a review, with the permission and state rules.

The web queue, the REST API and the CLI all call these functions, so a rule — who may approve,
when an override needs a reason, that approval re-checks the draft — holds everywhere at once.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from connectors.text import strip_invisible

from .classify import classifier_for
from .drafting import Drafter, draft_review
from .drafts import Draft
from .guardrails import check
from .policy import Policy
from .store import states
from .store.models import DraftRow, ReviewRow, utcnow
from .store.reviews import current_draft, save_draft, text_hash, to_review

ROLES = ("viewer", "editor", "approver", "admin")
# Violations no written reason can excuse: the platform would refuse the reply anyway.
UNOVERRIDABLE = frozenset({"empty", "too_long"})


@dataclass(frozen=True)
class Actor:
    """Who acts: a person with a role, an API token mapped to a role, or the system."""

    name: str
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


SYSTEM = Actor("system", "admin")


class ActionError(Exception):
    """An action refused for a reason a person can act on; `code` is stable for the API."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


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
    return draft


def edit_draft(session: Session, row: ReviewRow, policy: Policy, actor: Actor, text: str,
               offer_id: str | None) -> DraftRow:
    """Save a person's edit as a new draft version; an approved review is un-approved first."""
    require(actor, "editor")
    if row.status == states.APPROVED:
        states.transition(session, row, states.DRAFTED, actor=actor.name,
                          reason="Edited after approval", approved_by=None, approved_at=None,
                          approved_text_hash=None)
    if row.status not in states.EDITABLE and row.status != states.DRAFTED:
        raise ActionError("invalid_state", f"A {row.status} review cannot be edited.")
    draft = recheck(session, row, policy, text.strip(), offer_id)
    return save_draft(session, row, draft, actor=actor.name)


def regenerate(session: Session, row: ReviewRow, policy: Policy, actor: Actor,
               drafter: Drafter | None = None, instruction: str | None = None) -> DraftRow:
    require(actor, "editor")
    instruction = _reason(instruction) or None
    if row.status == states.APPROVED:
        states.transition(session, row, states.DRAFTED, actor=actor.name,
                          reason="Regenerated after approval", approved_by=None,
                          approved_at=None, approved_text_hash=None)
    if row.status not in states.EDITABLE:
        raise ActionError("invalid_state", f"A {row.status} review cannot be redrafted.")
    draft = draft_review(to_review(row), policy, drafter, instruction)
    return save_draft(session, row, draft, actor=actor.name, instruction=instruction)


def approve(session: Session, row: ReviewRow, policy: Policy, actor: Actor,
            override_reason: str | None = None) -> None:
    """Approve the current draft after checking it again.

    A draft with violations, an escalation, or an offer that needs a manager can be approved only
    by an approver who writes down why; the reason lands in the audit log.
    """
    require(actor, "approver")
    stored = _draft_of(session, row)
    if not row.answerable:
        raise ActionError("not_answerable", "Replies to this source cannot be posted here; "
                                            "copy the reply instead.")
    offer = policy.offer(stored.offer_id)
    draft = recheck(session, row, policy, stored.text, stored.offer_id, stored.engine)
    blocking = [v.message for v in draft.violations if v.code in UNOVERRIDABLE]
    if blocking:
        raise ActionError("cannot_post", "This reply can never be posted: " + " ".join(blocking))
    concerns = [v.message for v in draft.violations]
    if row.escalated:
        concerns.append("The review is escalated (" + ", ".join(row.escalation_reasons) + ").")
    if offer is not None and offer.manager_approval:
        concerns.append(f"The offer “{offer.label}” needs a manager's approval.")
    reason = "Approved"
    if concerns:
        if not _reason(override_reason):
            raise ActionError("needs_override", "Approval needs a written reason: "
                              + " ".join(concerns))
        reason = f"Approved with override: {_reason(override_reason)} (concerns: " \
                 f"{' '.join(concerns)})"
    if row.status not in (states.DRAFTED, states.NEEDS_ATTENTION, states.FAILED):
        raise ActionError("invalid_state", f"A {row.status} review cannot be approved.")
    states.transition(session, row, states.APPROVED, actor=actor.name, reason=reason,
                      approved_by=actor.name, approved_at=utcnow(),
                      approved_text_hash=text_hash(stored.text), last_error=None)


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
