"""Outbound events: what integrators are told, and the outbox they are written to.

`emit` adds the event and one delivery per subscribed endpoint to the caller's session, so the
event commits or rolls back with the change it reports. State changes reach `emit` through the
state machine's listener list; nothing else in the pipeline needs to know events exist.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from connectors.base import format_time

from ..store import states
from ..store.models import DraftRow, ReviewRow, utcnow
from .models import Delivery, OutboxEvent, WebhookEndpoint

REVIEW_RECEIVED, DRAFT_READY = "review.received", "draft.ready"
REPLY_APPROVED, REPLY_POSTED, REPLY_FAILED = "reply.approved", "reply.posted", "reply.failed"
REPLY_PUBLISHED, REPLY_REJECTED = "reply.published", "reply.rejected"
REVIEW_ESCALATED = "review.escalated"
DIGEST = "insights.digest"

_REVIEW = {
    "type": "object",
    "required": ["id", "platform", "external_id", "status", "rating"],
    "properties": {
        "id": {"type": "integer"},
        "platform": {"type": "string"},
        "external_id": {"type": "string"},
        "source": {"type": "string"},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "status": {"type": "string", "enum": list(states.STATES)},
        "escalated": {"type": "boolean"},
        "escalation_reasons": {"type": "array", "items": {"type": "string"}},
        "api_path": {"type": "string", "description": "Path of the review under the API base"},
    },
}
_DRAFT = {
    "type": "object",
    "required": ["version", "text"],
    "properties": {
        "version": {"type": "integer"},
        "text": {"type": "string"},
        "offer_id": {"type": ["string", "null"]},
        "violations": {"type": "array", "items": {"type": "object"}},
    },
}


def _data_schema(extra: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "required": ["review", *required],
            "properties": {"review": _REVIEW, **extra}}


EVENTS: dict[str, dict[str, Any]] = {
    REVIEW_RECEIVED: {"description": "A review was stored for the first time.",
                      "data": _data_schema({}, [])},
    DRAFT_READY: {"description": "A draft reply is waiting in the queue.",
                  "data": _data_schema({"draft": _DRAFT}, ["draft"])},
    REPLY_APPROVED: {"description": "A person approved the reply.",
                     "data": _data_schema({"draft": _DRAFT, "approved_by": {"type": "string"}},
                                          ["draft"])},
    REPLY_POSTED: {"description": "The platform accepted the reply; reply.published follows "
                                  "when it shows it in public.",
                   "data": _data_schema({"draft": _DRAFT,
                                         "posted_at": {"type": ["string", "null"]}}, ["draft"])},
    REPLY_PUBLISHED: {"description": "The platform shows the reply in public (moderation "
                                      "approved it, or the App Store published it).",
                      "data": _data_schema({"public_state": {"type": "string"}}, [])},
    REPLY_REJECTED: {"description": "The platform's moderation rejected the reply; the review "
                                    "is back with a person with the platform's reason.",
                     "data": _data_schema({"reason": {"type": ["string", "null"]}}, ["reason"])},
    REPLY_FAILED: {"description": "Posting failed; the review needs a person or a retry.",
                   "data": _data_schema({"error": {"type": ["string", "null"]}}, ["error"])},
    REVIEW_ESCALATED: {"description": "The review needs a person (legal, safety, manual).",
                       "data": _data_schema({}, [])},
    DIGEST: {"description": "Yesterday's figures and what is waiting, once a day, for chat "
                            "tools.",
             "data": {"type": "object",
                      "required": ["day", "received", "replied", "waiting_past_target",
                                   "escalations_open"],
                      "properties": {
                          "day": {"type": "string", "format": "date"},
                          "received": {"type": "integer"}, "replied": {"type": "integer"},
                          "skipped": {"type": "integer"},
                          "response_rate": {"type": ["number", "null"]},
                          "median_hours_to_reply": {"type": ["number", "null"]},
                          "offers_made": {"type": "integer"},
                          "money_offered": {"type": "object"},
                          "waiting_past_target": {"type": "integer"},
                          "response_target_hours": {"type": "integer"},
                          "oldest_waiting": {"type": "array", "items": {"type": "object"}},
                          "escalations_open": {"type": "integer"},
                          "made_at": {"type": "string"}}}},
}


def envelope_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of a whole message body of one event type."""
    return {"type": "object", "required": ["type", "timestamp", "data"],
            "properties": {"type": {"const": event_type},
                           "timestamp": {"type": "string", "format": "date-time"},
                           "data": EVENTS[event_type]["data"]}}


def emit(session: Session, event_type: str, data: dict[str, Any]) -> OutboxEvent | None:
    """Record an event and queue it for every enabled endpoint that subscribed to it."""
    return emit_many(session, [(event_type, data)])[0]


def emit_many(session: Session, events: Sequence[tuple[str, dict[str, Any]]], *,
              endpoints: Sequence[WebhookEndpoint] | None = None) -> list[OutboxEvent | None]:
    """`emit` for several events, in order, with the endpoints read once for all of them (or
    given, as `enabled_endpoints` read them) and the events and their deliveries written as one
    executemany each: a batch of ten thousand new reviews is a few statements, not ten thousand
    lookups and inserts."""
    for event_type, _ in events:
        if event_type not in EVENTS:
            raise ValueError(f"unknown event type {event_type!r}")
    if not events:
        return []
    if endpoints is None:
        endpoints = enabled_endpoints(session)
    queued: list[dict[str, Any] | None] = []
    subscribed: dict[str, list[int]] = {}
    for event_type, data in events:
        subscribed[event_type] = [endpoint.id for endpoint in endpoints
                                  if event_type in endpoint.events]
        if not subscribed[event_type]:
            queued.append(None)
            continue
        now = utcnow()
        queued.append({"message_id": f"msg_{uuid.uuid4().hex}", "type": event_type,
                       "created_at": now, "payload": {"type": event_type,
                                                      "timestamp": format_time(now),
                                                      "data": data}})
    rows = [row for row in queued if row is not None]
    if not rows:
        return [None] * len(events)
    session.execute(insert(cast(Table, OutboxEvent.__table__)), rows)
    names = [row["message_id"] for row in rows]
    recorded = {event.message_id: event for start in range(0, len(names), 500)
                for event in session.scalars(select(OutboxEvent).where(
                    OutboxEvent.message_id.in_(names[start:start + 500])))}
    session.execute(insert(cast(Table, Delivery.__table__)), [
        {"event_id": recorded[row["message_id"]].id, "endpoint_id": endpoint_id,
         "next_attempt_at": row["created_at"]}
        for row in rows for endpoint_id in subscribed[row["type"]]])
    return [None if row is None else recorded[row["message_id"]] for row in queued]


def enabled_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))))


def review_data(row: ReviewRow) -> dict[str, Any]:
    return {"id": row.id, "platform": row.platform, "external_id": row.external_id,
            "source": row.source, "rating": row.rating, "status": row.status,
            "escalated": bool(row.escalated),
            "escalation_reasons": list(row.escalation_reasons or []),
            "api_path": f"/reviews/{row.id}"}


def _draft_data(session: Session, row: ReviewRow) -> dict[str, Any] | None:
    draft = session.get(DraftRow, row.current_draft_id) if row.current_draft_id else None
    if draft is None:
        return None
    return {"version": draft.version, "text": draft.text, "offer_id": draft.offer_id,
            "violations": list(draft.violations or [])}


def event_for(session: Session, row: ReviewRow, action: str, from_state: str | None,
              to_state: str | None) -> tuple[str, dict[str, Any]] | None:
    """Which event, if any, a state-machine change means for integrators."""
    data: dict[str, Any] = {"review": review_data(row)}
    if action == "received":
        return REVIEW_RECEIVED, data
    if action == "reply_published":
        return REPLY_PUBLISHED, {**data, "public_state": "published"}
    if action == "reply_rejected":
        return REPLY_REJECTED, {**data, "reason": row.public_reason}
    draft = _draft_data(session, row)
    if action == "draft_saved" and draft is not None:
        return DRAFT_READY, {**data, "draft": draft}
    if action != "transition":
        return None
    if to_state == states.NEEDS_ATTENTION and row.escalated and from_state != to_state:
        return REVIEW_ESCALATED, data
    if draft is not None and (to_state == states.DRAFTED or (
            to_state == states.NEEDS_ATTENTION and from_state in
            (states.NEW, states.DRAFTED, states.DRAFT_FAILED))):
        return DRAFT_READY, {**data, "draft": draft}
    # A post going back to approved (a retry, a wait for the quota) approves nothing new.
    if to_state == states.APPROVED and from_state != states.POSTING and draft is not None:
        return REPLY_APPROVED, {**data, "draft": draft, "approved_by": row.approved_by or ""}
    if to_state == states.POSTED and draft is not None:
        return REPLY_POSTED, {**data, "draft": draft, "posted_at": format_time(row.posted_at)}
    if to_state == states.FAILED:
        return REPLY_FAILED, {**data, "error": row.last_error}
    return None


def _on_changes(session: Session, changes: Sequence[states.Change]) -> None:
    """Nothing is worked out, and no row read back, while no endpoint listens; the endpoints
    are read once per transaction, however many changes it makes."""
    endpoints = _endpoints_of_transaction(session)
    if not any(endpoint.events for endpoint in endpoints):
        return
    found = [event_for(session, c.review, c.action, c.from_state, c.to_state) for c in changes]
    emit_many(session, [event for event in found if event is not None], endpoints=endpoints)


_ENDPOINTS_KEY = "makeright.outbound.endpoints"


def _endpoints_of_transaction(session: Session) -> list[WebhookEndpoint]:
    """The enabled endpoints as this transaction first read them: a worker's transaction
    changes many reviews, and reading the endpoints for each change was a third of its round
    trips. An endpoint added meanwhile is seen from the next transaction on."""
    transaction = session.get_transaction()
    cached = session.info.get(_ENDPOINTS_KEY)
    if cached is not None and cached[0] is transaction:
        return cast(list[WebhookEndpoint], cached[1])
    endpoints = enabled_endpoints(session)
    session.info[_ENDPOINTS_KEY] = (transaction, endpoints)
    return endpoints


def install() -> None:
    """Listen to the state machine (idempotent: importing twice does not double events)."""
    if _on_changes not in states.LISTENERS:
        states.LISTENERS.append(_on_changes)
