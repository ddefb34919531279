"""What every integration endpoint shares: JSON errors with stable codes, the policy, the
drafter, and the serialised forms of reviews and drafts.

Error codes are part of the API contract (integrators branch on them), so they are listed here
once and the OpenAPI document takes them from this list.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from connectors.base import format_time
from connectors.untrusted import InputError, decode_json

from ..errors import REFUSALS, MakeRightError, refusal
from ..store.models import AuditRow, DraftRow, ReviewRow

ERROR_CODES: dict[str, str] = {
    "unauthorized": "The bearer token is missing, unknown or revoked.",
    "insufficient_scope": "The token lacks the scope this operation needs.",
    "forbidden": "The acting role may not do this.",
    "not_found": "No such resource.",
    "method_not_allowed": "The resource does not support this method.",
    "invalid_request": "The request is malformed (not JSON, wrong types, bad parameters).",
    "invalid_review": "The review does not meet the review format; `field` names the problem.",
    "invalid_signature": "The webhook signature, timestamp or headers do not verify.",
    "payload_too_large": "The body is larger than the endpoint accepts.",
    "idempotency_key_required": "This operation needs an Idempotency-Key header.",
    "idempotency_key_invalid": "The Idempotency-Key is not 1-255 visible ASCII characters.",
    "idempotency_key_reused": "The Idempotency-Key was used with a different request.",
    "idempotency_conflict": "A request with this Idempotency-Key is still being processed.",
    "no_draft": "The review has no draft yet.",
    "invalid_state": "The review's state does not allow this action.",
    "concurrent_change": "Someone else changed the review first; read it again.",
    "draft_changed": "The draft is no longer the version the request names (someone else "
                     "saved one, or it was drafted again); nothing was saved, approved or "
                     "posted. Read the review again.",
    "needs_override": "Approval needs an override_reason (violations, escalation or offer).",
    "empty": "The reply text is empty.",
    "cannot_post": "The reply can never be posted (empty, or over the platform's limit).",
    "reason_required": "This action needs a reason.",
    "unknown_offer": "The policy has no such offer.",
    "not_answerable": "Replies to this source cannot be posted.",
    "no_source": "The review's source is not configured, so nothing can be posted to it.",
    "not_approved_text": "The reply changed after it was approved; approve it again.",
    "too_long": "The reply is over the platform's length limit.",
    "no_public_reply": "overwrite was asked for, but no reply by someone else is on record.",
    "public_reply_changed": "The public reply is not the one the confirmation was for.",
    "upstream_unavailable": "The review platform could not be reached; try again later.",
    "upstream_error": "The review platform answered with an error; `message` keeps its words.",
    "platform_rejected": "The review platform refused the content.",
    "internal_error": "Something failed on our side.",
}

class ApiError(MakeRightError):
    """A refusal written at the API itself, with its HTTP status first as it reads there."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message, code=code, status=status, field=field)


def error_response(status: int, code: str, message: str,
                   field: str | None = None) -> tuple[dict[str, Any], int]:
    return ApiError(status, code, message, field).body(), status


def refusal_response(exc: Exception) -> ResponseReturnValue:
    """Any refusal as the API's JSON error; a code outside the contract's list answers as the
    generic one for its status, so integrators only ever see codes they can branch on."""
    answer = refusal(exc)
    if answer is None:
        raise exc
    code = answer.code
    if code not in ERROR_CODES:
        code = "internal_error" if answer.status >= 500 else "invalid_request"
    return error_response(answer.status, code, answer.message, answer.field)


def json_errors(bp: Blueprint) -> None:
    """Make every failure inside the blueprint a JSON error with a stable code."""
    for root in REFUSALS:
        bp.register_error_handler(root, refusal_response)

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                413: "payload_too_large"}.get(exc.code or 500, "invalid_request")
        if (exc.code or 500) >= 500:
            code = "internal_error"
        body, status = error_response(exc.code or 500, code, exc.description or exc.name,
                                      getattr(exc, "field", None))
        return body, status, allow_header(exc)


def parse_json(body: bytes, malformed_status: int = 400) -> Any:
    """The body through the one input boundary (`connectors.untrusted`).

    A body that cannot be read at all (not UTF-8, not JSON, nested too deeply) answers
    `malformed_status`; a readable one with a bad field (NUL, a lone surrogate) answers 422
    naming that field.
    """
    try:
        return decode_json(body)
    except InputError as exc:
        status = malformed_status if exc.field == "body" else 422
        raise ApiError(status, "invalid_request", str(exc), exc.field) from None


def review_url(row_id: int) -> str:
    """The status URL of a review, relative to where the API is mounted."""
    return url_for("makeright.api.get_review", review_id=row_id)


def review_summary(row: ReviewRow) -> dict[str, Any]:
    return {
        "id": row.id, "platform": row.platform, "external_id": row.external_id,
        "source": row.source, "author": row.author, "rating": row.rating, "title": row.title,
        "text": row.text, "language": row.language, "status": row.status,
        "status_reason": row.status_reason, "escalated": row.escalated,
        "escalation_reasons": list(row.escalation_reasons or []),
        "categories": list(row.categories or []), "url": row.url,
        "created_at": _time(row.review_created_at), "received_at": _time(row.received_at),
        "approved_by": row.approved_by, "posted_at": _time(row.posted_at),
        "current_draft_id": row.current_draft_id,
        "public_reply": row.platform_reply, "post_state": row.post_state,
        "public_state": row.public_state, "public_reason": row.public_reason,
        "post_requested_by": row.post_requested_by, "attempts": row.attempts,
        "next_attempt_at": _time(row.next_attempt_at), "last_error": row.last_error,
    }


def draft_json(draft: DraftRow) -> dict[str, Any]:
    return {"id": draft.id, "version": draft.version, "text": draft.text, "engine": draft.engine,
            "language": draft.language, "offer_id": draft.offer_id,
            "violations": list(draft.violations or []), "note": draft.note,
            "created_by": draft.created_by, "created_at": _time(draft.created_at)}


def audit_json(entry: AuditRow) -> dict[str, Any]:
    return {"at": _time(entry.at), "actor": entry.actor, "action": entry.action,
            "from": entry.from_state, "to": entry.to_state, "reason": entry.reason}


def _time(value: Any) -> str | None:
    return format_time(value)


def allow_header(error: HTTPException) -> dict[str, str]:
    """A 405 names the methods the resource has (RFC 9110), in JSON answers too."""
    methods = getattr(error, "valid_methods", None)
    return {"Allow": ", ".join(sorted(methods))} if methods else {}
