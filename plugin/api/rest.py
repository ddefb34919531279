"""The REST API (`/api/v1`): reviews, their drafts and history, and the queue's actions.

Every action goes through `plugin.actions`, with the token's scopes mapped to a role, so an
integrator can do exactly what a person with that role can do in the queue and no more.
"""
from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import MAX_TEXT_CHARS, PLATFORMS
from connectors.errors import ConnectorError

from .. import actions
from ..app import get_connector_for, get_db, get_drafter, get_policy
from ..classify import classifier_for
from ..extensions import csrf
from ..posting import post_review
from ..store import states
from ..store.models import AuditRow, ReviewRow
from ..store.reviews import current_draft, ingest
from ..inputs import parse_id
from .common import ApiError, audit_json, draft_json, json_errors, parse_json, review_summary
from .idempotency import Stored, check_key, claim, fingerprint
from .tokens import APPROVE, POST, READ, WRITE, require_scope
from .webhooks import parse_reviews, read_limited_body

PAGE_DEFAULT, PAGE_MAX = 50, 100
# The same caps as the queue's forms (a draft may be long; a reason is a sentence or two).
TEXT_LIMITS = {"instruction": 300, "text": MAX_TEXT_CHARS, "reason": 1000,
               "override_reason": 1000, "offer_id": 100}

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
json_errors(bp)


def _json_body(fields: dict[str, type], required: tuple[str, ...] = (),
               limits: dict[str, int] | None = None) -> dict[str, Any]:
    """A JSON object body with known, typed fields; ApiError 400/422 otherwise.

    A field may be null (as if left out); `limits` caps the length of text fields.
    """
    raw = read_limited_body()
    if not raw.strip() and not required:
        return {}
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object.")
    for name, value in data.items():
        if name not in fields:
            raise ApiError(422, "invalid_request", f"{name}: is not a field here", name)
        if value is not None and not isinstance(value, fields[name]):
            raise ApiError(422, "invalid_request", f"{name}: has the wrong type", name)
        limit = (limits or {}).get(name)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise ApiError(422, "invalid_request", f"{name}: is longer than {limit} "
                                                   "characters", name)
    for name in required:
        if data.get(name) is None:
            raise ApiError(422, "invalid_request", f"{name}: is required", name)
    return data


def _row(session: Session, review_id: int) -> ReviewRow:
    row = session.get(ReviewRow, review_id)
    if row is None:
        raise ApiError(404, "not_found", f"No review {review_id}.")
    return row


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        last_id = parse_id(value) if kind == "id" else None
        if last_id is None:
            raise ValueError(cursor)
        return last_id
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_request", "cursor: is not a cursor from this API",
                       "cursor") from None


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in allowed:
        raise ApiError(400, "invalid_request", f"{name}: must be one of {', '.join(allowed)}",
                       name)
    return value


def _integer(name: str, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise ApiError(400, "invalid_request", f"{name}: must be an integer from {low} to "
                                               f"{high}", name)
    return int(value)


@bp.get("/reviews")
@require_scope(READ)
def list_reviews():
    query = select(ReviewRow).order_by(ReviewRow.id.desc())
    if (status := _choice("status", states.STATES)) is not None:
        query = query.where(ReviewRow.status == status)
    if (platform := _choice("platform", PLATFORMS)) is not None:
        query = query.where(ReviewRow.platform == platform)
    if (rating := _integer("rating", 1, 5)) is not None:
        query = query.where(ReviewRow.rating == rating)
    if (language := request.args.get("language")) is not None:
        query = query.where(ReviewRow.language == language.lower())
    if (escalated := _choice("escalated", ("true", "false"))) is not None:
        query = query.where(ReviewRow.escalated.is_(escalated == "true"))
    if cursor := request.args.get("cursor"):
        query = query.where(ReviewRow.id < _decode_cursor(cursor))
    limit = _integer("limit", 1, PAGE_MAX) or PAGE_DEFAULT
    with get_db().session() as session:
        rows = list(session.scalars(query.limit(limit + 1)))
        page = [review_summary(row) for row in rows[:limit]]
    more = len(rows) > limit
    return {"reviews": page, "next_cursor": _encode_cursor(page[-1]["id"]) if more else None}


@bp.post("/reviews")
@require_scope(WRITE)
def create_review():
    key = check_key(request.headers.get("Idempotency-Key"))
    body = read_limited_body()
    reviews, batch = parse_reviews(body)
    if batch:
        raise ApiError(422, "invalid_review", "reviews: post one review per request here; "
                                              "batches go to the webhook", "reviews")
    caller = g.caller
    print_ = fingerprint("POST", request.path, body)
    with get_db().session() as session:
        claimed = claim(session, caller.token_id, key, print_)
        if isinstance(claimed, Stored):
            return claimed.body, claimed.status_code, {"Idempotent-Replayed": "true"}
        review = reviews[0]
        policy = get_policy()
        stored = ingest(session, review, classifier_for(policy).classify(review),
                        actor=caller.actor.name)
        status = 201 if stored.outcome == "new" else 200
        answer = {"review": review_summary(stored.row), "outcome": stored.outcome}
        claimed.status_code, claimed.response = status, answer
    return answer, status


@bp.get("/reviews/<id:review_id>")
@require_scope(READ)
def get_review(review_id: int):
    with get_db().session() as session:
        row = _row(session, review_id)
        draft = current_draft(session, row)
        history = session.scalars(select(AuditRow).where(AuditRow.review_id == row.id)
                                  .order_by(AuditRow.id))
        return {"review": review_summary(row),
                "draft": draft_json(draft) if draft else None,
                "drafts": [draft_json(item) for item in row.drafts],
                "history": [audit_json(entry) for entry in history]}


@bp.post("/reviews/<id:review_id>/drafts")
@require_scope(WRITE)
def request_draft(review_id: int):
    data = _json_body({"instruction": str}, limits=TEXT_LIMITS)
    with get_db().session() as session:
        row = _row(session, review_id)
        stored = actions.regenerate(session, row, get_policy(), g.caller.actor,
                                    get_drafter(), data.get("instruction") or None)
        return {"review": review_summary(row), "draft": draft_json(stored)}, 201


@bp.put("/reviews/<id:review_id>/draft")
@require_scope(WRITE)
def edit_draft(review_id: int):
    data = _json_body({"text": str, "offer_id": str}, required=("text",), limits=TEXT_LIMITS)
    if not data["text"].strip():
        raise ApiError(422, "invalid_request", "text: must not be empty", "text")
    with get_db().session() as session:
        row = _row(session, review_id)
        stored = actions.edit_draft(session, row, get_policy(), g.caller.actor, data["text"],
                                    data.get("offer_id") or None)
        return {"review": review_summary(row), "draft": draft_json(stored)}


@bp.post("/reviews/<id:review_id>/approve")
@require_scope(APPROVE)
def approve(review_id: int):
    data = _json_body({"override_reason": str}, limits=TEXT_LIMITS)
    with get_db().session() as session:
        row = _row(session, review_id)
        actions.approve(session, row, get_policy(), g.caller.actor,
                        override_reason=data.get("override_reason"))
        return {"review": review_summary(row)}


@bp.post("/reviews/<id:review_id>/post")
@require_scope(POST)
def post(review_id: int):
    _json_body({})
    failure: ConnectorError | None = None
    with get_db().session() as session:
        row = _row(session, review_id)
        if row.status != states.APPROVED:
            raise ApiError(409, "invalid_state", f"A {row.status} review cannot be posted; "
                                                 "approve it first.")
        try:
            post_review(get_db(), session, row, get_connector_for()(row), g.caller.actor)
        except ConnectorError as exc:
            # Whatever the poster recorded (a failed state, an attempt) is kept.
            failure = exc
        answer = {"review": review_summary(row)}
    if failure is not None:
        raise ApiError(502, "posting_failed", str(failure))
    return answer


@bp.post("/reviews/<id:review_id>/skip")
@require_scope(WRITE)
def skip(review_id: int):
    data = _json_body({"reason": str}, required=("reason",), limits=TEXT_LIMITS)
    with get_db().session() as session:
        row = _row(session, review_id)
        actions.skip(session, row, g.caller.actor, data["reason"])
        return {"review": review_summary(row)}
