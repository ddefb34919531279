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

from connectors import registry
from connectors.base import MAX_TEXT_CHARS

from .. import actions, intake
from ..context import (
    connector_of,
    get_db,
    get_drafter,
    get_intake_sources,
    get_policy,
    request_unit,
)
from ..extensions import csrf
from ..inputs import MAX_ID, parse_id
from ..posting import request_post
from ..store import states
from ..store.models import AuditRow, ReviewRow
from ..store.reviews import current_draft
from .common import (
    ApiError,
    audit_json,
    draft_json,
    json_errors,
    parse_json,
    review_summary,
    review_url,
)
from .idempotency import Stored, check_key, claim, fingerprint
from .tokens import APPROVE, POST, READ, WRITE, require_scope
from .webhooks import parse_reviews, read_limited_body

PAGE_DEFAULT, PAGE_MAX = 50, 100
# The same caps as the queue's forms (a draft may be long; a reason is a sentence or two).
TEXT_LIMITS = {"instruction": 300, "text": MAX_TEXT_CHARS, "reason": 1000,
               "override_reason": 1000, "overwrite_reason": 1000, "offer_id": 100}

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
        if fields[name] is int and isinstance(value, float) and value.is_integer():
            value = data[name] = int(value)  # JSON Schema's integer: 4882.0 is 4882
        if value is not None and (not isinstance(value, fields[name])
                                  or (fields[name] is int and isinstance(value, bool))):
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
    if (platform := _choice("platform", registry.platform_names())) is not None:
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
    with request_unit() as session:
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
    policy = get_policy()
    classified = intake.classify(reviews, policy, get_intake_sources(reviews, policy))
    with get_db().session() as session:
        claimed = claim(session, caller.token_id, key, print_)
        if isinstance(claimed, Stored):
            return claimed.body, claimed.status_code, {"Idempotent-Replayed": "true"}
        stored, = intake.store(session, classified, intake.Door(caller.actor.name))
        status = 201 if stored.outcome == "new" else 200
        answer = {"review": review_summary(stored.row), "outcome": stored.outcome}
        claimed.status_code, claimed.response = status, answer
    return answer, status


@bp.get("/reviews/<id:review_id>")
@require_scope(READ)
def get_review(review_id: int):
    with request_unit() as session:
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
    """A new draft version. The drafter runs before the transaction that stores it (see
    `actions.prepare_redraft`): a model call takes seconds, and on SQLite the drafter's own
    units of work would wait for this request's write lock."""
    data = _json_body({"instruction": str}, limits=TEXT_LIMITS)
    instruction = data.get("instruction") or None
    with get_db().session(read_only=True) as session:
        row = _row(session, review_id)
        prepared = actions.prepare_redraft(row, get_policy(row), get_drafter(), instruction) \
            if row.status in states.EDITABLE | {states.APPROVED} else None
    with get_db().session() as session:
        row = _row(session, review_id)
        stored = actions.regenerate(session, row, get_policy(row), g.caller.actor,
                                    get_drafter(), instruction, prepared=prepared)
        return {"review": review_summary(row), "draft": draft_json(stored)}, 201


@bp.put("/reviews/<id:review_id>/draft")
@require_scope(WRITE)
def edit_draft(review_id: int):
    """Save an edit; with `base_version`, only if that is still the current draft."""
    data = _json_body({"text": str, "offer_id": str, "base_version": int}, required=("text",),
                      limits=TEXT_LIMITS)
    if not data["text"].strip():
        raise ApiError(422, "invalid_request", "text: must not be empty", "text")
    base = _version(data, "base_version")
    with get_db().session() as session:
        row = _row(session, review_id)
        stored = actions.save_as_seen(session, row, get_policy(row), g.caller.actor, version=base,
                                      text=data["text"], offer_id=data.get("offer_id") or None)
        return {"review": review_summary(row), "draft": draft_json(stored)}


@bp.post("/reviews/<id:review_id>/approve")
@require_scope(APPROVE)
def approve(review_id: int):
    """Approve the draft version the caller read, or their `text` based on it, in one step.

    With `post`, the reply is queued for posting at once (202); that also needs the
    replies:post scope, and `overwrite` with a reason replaces someone else's public reply.
    """
    data = _json_body({"draft_version": int, "text": str, "offer_id": str,
                       "override_reason": str, "post": bool, "overwrite": bool,
                       "overwrite_reason": str}, required=("draft_version",),
                      limits=TEXT_LIMITS)
    version = _version(data, "draft_version") or 0  # required: never None here
    post_now = bool(data.get("post"))
    if post_now and POST not in g.caller.scopes:
        raise ApiError(403, "insufficient_scope", "post: needs the replies:post scope too",
                       "post")
    overwrite = _overwrite(data, post_now)
    text = data.get("text")
    if text is not None and not text.strip():
        raise ApiError(422, "invalid_request", "text: must not be empty", "text")
    with get_db().session() as session:
        row = _row(session, review_id)
        if post_now:
            connector_of(row)
        offer = (data.get("offer_id") or None) if "offer_id" in data else actions.UNCHANGED
        actions.approve_as_seen(session, row, get_policy(row), g.caller.actor, version=version,
                                text=text, offer_id=offer,
                                override_reason=data.get("override_reason"))
        if not post_now:
            return {"review": review_summary(row)}
        request_post(session, row, g.caller.actor, overwrite_reason=overwrite)
        return _accepted(row)


@bp.post("/reviews/<id:review_id>/post")
@require_scope(POST)
def post(review_id: int):
    """Queue the approved reply for posting (202); follow the review for the outcome.

    `overwrite: true` with an `overwrite_reason` allows replacing the public reply someone
    else wrote (the one on record now, `public_reply`), for this approval only, audited.
    """
    data = _json_body({"overwrite": bool, "overwrite_reason": str}, limits=TEXT_LIMITS)
    overwrite = _overwrite(data, True)
    with get_db().session() as session:
        row = _row(session, review_id)
        if row.status not in (states.APPROVED, states.POSTING):
            raise ApiError(409, "invalid_state", f"A {row.status} review cannot be posted; "
                                                 "approve it first.")
        connector_of(row)
        request_post(session, row, g.caller.actor, overwrite_reason=overwrite)
        return _accepted(row)


def _version(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is not None and not 1 <= value <= MAX_ID:
        raise ApiError(422, "invalid_request", f"{name}: must be a draft version (1 or more)",
                       name)
    return value


def _overwrite(data: dict[str, Any], posting: bool) -> str | None:
    """The overwrite reason when `overwrite` is asked for; refusals name the field."""
    if not data.get("overwrite"):
        if data.get("overwrite_reason"):
            raise ApiError(422, "invalid_request", "overwrite_reason: only with overwrite: "
                                                   "true", "overwrite_reason")
        return None
    if not posting:
        raise ApiError(422, "invalid_request", "overwrite: only when posting (post: true)",
                       "overwrite")
    reason = (data.get("overwrite_reason") or "").strip()
    if not reason:
        raise ApiError(422, "reason_required", "overwrite_reason: replacing a public reply "
                                               "needs a reason", "overwrite_reason")
    return reason


def _accepted(row: ReviewRow):
    """202: the post is queued; the review's status URL shows how it ends."""
    return {"review": review_summary(row), "status_url": review_url(row.id)}, 202


@bp.post("/reviews/<id:review_id>/skip")
@require_scope(WRITE)
def skip(review_id: int):
    data = _json_body({"reason": str}, required=("reason",), limits=TEXT_LIMITS)
    with get_db().session() as session:
        row = _row(session, review_id)
        actions.skip(session, row, g.caller.actor, data["reason"])
        return {"review": review_summary(row)}
