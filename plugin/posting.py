"""A person posting an approved reply now, from the queue or the API.

The pipeline's poster is the one place that writes to a platform (claim, read the current
reply, write exactly the approved bytes, record the outcome); this module adds what a person
needs around it: refusals they can act on, and the request's session brought up to date.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from connectors.base import Connector, reply_length

from .actions import ActionError, Actor, require
from .pipeline.poster import post_one
from .store import states
from .store.db import Database
from .store.models import ReviewRow
from .store.reviews import current_draft, text_hash


def post_review(database: Database, session: Session, row: ReviewRow, connector: Connector,
                actor: Actor, *, confirm_overwrite: bool = False) -> str:
    """Post the approved reply of `row`; returns the state it ends in."""
    require(actor, "approver")
    if row.status != states.APPROVED:
        raise ActionError("invalid_state", f"A {row.status} review cannot be posted; approve it "
                                           "first.")
    draft = current_draft(session, row)
    if draft is None or row.approved_text_hash is None \
            or text_hash(draft.text) != row.approved_text_hash:
        raise ActionError("not_approved_text", "The reply changed after it was approved; approve "
                                               "it again before posting.")
    used, limit, unit = reply_length(draft.text, row.platform)
    if used > limit:
        raise ActionError("too_long", f"The reply is {used} {unit}; {row.platform} allows "
                                      f"{limit} {unit}.")
    # The poster works in its own short transactions; ours must not hold the write lock.
    session.commit()
    outcome = post_one(database, row.id, connector, actor, confirm_overwrite=confirm_overwrite)
    session.refresh(row)
    return outcome.status
