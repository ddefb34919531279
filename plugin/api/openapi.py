"""The OpenAPI 3.1 document of the REST API, the inbound webhooks and the outbound events.

It is built from the same constants the code uses (platforms, states, scopes, error codes,
event schemas, batch and page limits), and a test checks that every route exists here and every
operation here exists as a route, so the document cannot drift from the app.
"""
from __future__ import annotations

from typing import Any

from connectors import registry
from connectors.base import (
    MAX_EXTERNAL_ID,
    MAX_FIELD_CHARS,
    MAX_REPLY_CHARS,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    MAX_YEAR,
    MIN_YEAR,
    URL_RE,
    YEAR_PATTERN,
)
from connectors.text import HAS_VISIBLE
from connectors.untrusted import MAX_DEPTH

from .. import __version__
from ..inputs import MAX_ID
from ..outbound.events import EVENTS, envelope_schema
from ..store import states
from .common import ERROR_CODES
from .rest import PAGE_MAX, TEXT_LIMITS
from .tokens import APPROVE, POST, READ, SCOPES, WRITE
from .webhooks import MAX_BATCH

NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN,
        "description": f"RFC 3339 (date, time with seconds, UTC offset), years {MIN_YEAR}-"
                       f"{MAX_YEAR}; ISO week and ordinal dates are not accepted."}
NULLABLE_TIME = {**TIME, "type": ["string", "null"]}
ID_PARAM = {"name": "review_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
# Every text field: no NUL (the schema's way of saying what the input boundary refuses).
NO_NUL = r"^[^\u0000]*$"
INPUT_RULES = (f"Bodies are UTF-8 JSON nested at most {MAX_DEPTH} levels, without duplicate "
               "keys, NaN or Infinity; no string may hold NUL (U+0000) or a lone surrogate. "
               "Errors name the field (`reviews[2].metadata.app`).")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas() -> dict[str, Any]:
    strings = {name: {"type": ["string", "null"], "maxLength": MAX_FIELD_CHARS,
                      "pattern": NO_NUL} for name in ("source", "author", "title")}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string", "enum": sorted(ERROR_CODES)},
                           "message": {"type": "string"}, "field": {"type": "string"}}}}},
        "ReviewInput": {
            "type": "object", "additionalProperties": False,
            "required": ["external_id", "rating", "created_at"],
            "description": "One review in the platform-neutral JSON form. Invisible and bidi "
                           "characters are removed from every string that is stored.",
            "properties": {
                "platform": {"type": "string", "enum": list(registry.platform_names()),
                             "default": "other"},
                "external_id": {"anyOf": [
                    {"type": "string", "minLength": 1, "maxLength": MAX_EXTERNAL_ID,
                     "pattern": HAS_VISIBLE},
                    {"type": "integer", "description": "taken as its decimal digits"}]},
                "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                "created_at": TIME, "updated_at": NULLABLE_TIME,
                **strings,
                "text": {"type": ["string", "null"], "maxLength": MAX_TEXT_CHARS,
                         "pattern": NO_NUL},
                "language": {"type": ["string", "null"],
                             "pattern": r"^([A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3})?$",
                             "description": "A language tag; empty or null when unknown."},
                "url": {"type": ["string", "null"], "maxLength": MAX_URL_CHARS,
                        "pattern": f"^{URL_RE.pattern}$",
                        "description": "A link to the review: http(s), a host name, no "
                                       "credentials."},
                "metadata": {"type": ["object", "null"],
                             "additionalProperties": _ref("JsonValue"),
                             "propertyNames": {"pattern": NO_NUL},
                             "description": "Free-form details shown to people (app version, "
                                            "territory, location); at most 8 levels deep."},
                "reply": {"oneOf": [{"type": "null"}, {
                    "type": "object", "additionalProperties": False, "required": ["text"],
                    "properties": {"text": {"type": "string", "maxLength": MAX_REPLY_CHARS,
                                            "pattern": NO_NUL},
                                   "updated_at": NULLABLE_TIME}}]},
            },
        },
        "ReviewBatch": {"type": "object", "additionalProperties": False, "required": ["reviews"],
                        "properties": {"reviews": {"type": "array", "minItems": 1,
                                                   "maxItems": MAX_BATCH,
                                                   "items": _ref("ReviewInput")}}},
        "Review": {"type": "object", "required": ["id", "platform", "external_id", "status"],
                   "properties": {
                       "id": {"type": "integer"}, "platform": {"type": "string"},
                       "external_id": {"type": "string"}, "source": {"type": "string"},
                       "author": {"type": "string"}, "rating": {"type": "integer"},
                       "title": {"type": "string"}, "text": {"type": "string"},
                       "language": NULLABLE_STRING,
                       "status": {"type": "string", "enum": list(states.STATES)},
                       "status_reason": {"type": "string"}, "escalated": {"type": "boolean"},
                       "escalation_reasons": {"type": "array", "items": {"type": "string"}},
                       "categories": {"type": "array", "items": {"type": "string"}},
                       "url": NULLABLE_STRING, "created_at": NULLABLE_STRING,
                       "received_at": NULLABLE_STRING, "approved_by": NULLABLE_STRING,
                       "posted_at": NULLABLE_STRING,
                       "current_draft_id": {"type": ["integer", "null"]},
                       "public_reply": {**NULLABLE_STRING, "description": "The reply public "
                                        "on the platform as last seen (ours once posted)"},
                       "post_state": {**NULLABLE_STRING, "description": "The platform's "
                                      "state of our reply (published, pending_publish, "
                                      "unconfirmed...)"},
                       "public_state": {"type": ["string", "null"],
                                        "enum": ["posted", "published", "rejected", None],
                                        "description": "posted: the platform accepted our "
                                        "reply; published: a read shows it live; rejected: the "
                                        "platform's moderation refused it (see public_reason)"},
                       "public_reason": {**NULLABLE_STRING, "description": "The platform's "
                                         "reason for a rejection (Google's PolicyViolation, "
                                         "e.g. REPETITIVE)"},
                       "post_requested_by": NULLABLE_STRING,
                       "attempts": {"type": "integer"},
                       "next_attempt_at": NULLABLE_STRING, "last_error": NULLABLE_STRING}},
        "Draft": {"type": "object", "required": ["id", "version", "text"], "properties": {
            "id": {"type": "integer"}, "version": {"type": "integer"}, "text": {"type": "string"},
            "engine": {"type": "string"}, "language": {"type": "string"},
            "offer_id": NULLABLE_STRING, "note": {"type": "string"},
            "violations": {"type": "array", "items": {"type": "object"}},
            "created_by": {"type": "string"}, "created_at": NULLABLE_STRING}},
        "AuditEntry": {"type": "object", "properties": {
            "at": NULLABLE_STRING, "actor": {"type": "string"}, "action": {"type": "string"},
            "from": NULLABLE_STRING, "to": NULLABLE_STRING, "reason": {"type": "string"}}},
        "ReviewDetail": {"type": "object", "required": ["review", "drafts", "history"],
                         "properties": {"review": _ref("Review"),
                                        "draft": {"oneOf": [{"type": "null"}, _ref("Draft")]},
                                        "drafts": {"type": "array", "items": _ref("Draft")},
                                        "history": {"type": "array",
                                                    "items": _ref("AuditEntry")}}},
        "ReviewPage": {"type": "object", "required": ["reviews", "next_cursor"], "properties": {
            "reviews": {"type": "array", "items": _ref("Review")},
            "next_cursor": NULLABLE_STRING}},
        "PostQueued": {"type": "object", "required": ["review", "status_url"], "properties": {
            "review": _ref("Review"),
            "status_url": {"type": "string", "description": "GET it until the status is no "
                                                            "longer approved or posting"}}},
        "ReviewResult": {"type": "object", "required": ["review"], "properties": {
            "review": _ref("Review"), "draft": _ref("Draft"),
            "outcome": {"type": "string", "enum": ["new", "updated", "unchanged"]}}},
        "Accepted": {"type": "object", "required": ["id", "status_url"], "properties": {
            "id": {"type": "integer"}, "platform": {"type": "string"},
            "external_id": {"type": "string"}, "status_url": {"type": "string"},
            "status": {"type": "string"}, "draft": _ref("Draft")}},
        "AcceptedBatch": {"type": "object", "required": ["reviews"], "properties": {
            "reviews": {"type": "array", "items": _ref("Accepted")}}},
        "PubsubPush": {"type": "object", "required": ["message"], "properties": {
            "message": {"type": "object", "properties": {
                "data": {"type": "string", "contentEncoding": "base64"},
                "messageId": {"type": "string"},
                "attributes": {"type": "object"}}},
            "subscription": {"type": "string"}}},
        "JsonObject": {"type": "object"},
        "JsonValue": {"anyOf": [
            {"type": "string", "pattern": NO_NUL},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": _ref("JsonValue")},
            {"type": "object", "additionalProperties": _ref("JsonValue"),
             "propertyNames": {"pattern": NO_NUL}}]},
    }


def _text(name: str, nullable: bool = False) -> dict[str, Any]:
    """A text field of a REST body, capped as the API caps it; null means "left out"."""
    return {"type": ["string", "null"] if nullable else "string",
            "maxLength": TEXT_LIMITS[name], "pattern": NO_NUL}


def _json(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"description": description or "OK",
            "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    described = {400: "Malformed request", 401: "Not authenticated", 403: "Not allowed",
                 404: "Not found", 409: "Conflict with the review's state, its current draft "
                 "version or a concurrent request", 413: "Body too large",
                 422: "Invalid body (the field is named)", 503: "Upstream unavailable"}
    return {str(code): _json(_ref("Error"), described[code]) for code in codes}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _op(op_id: str, summary: str, scope: str | None, ok: dict[str, Any],
        errors: tuple[int, ...], **extra: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": op_id, "summary": summary,
                                 "responses": {**ok, **_errors(*errors)}, **extra}
    if scope is not None:
        operation["security"] = [{"bearerAuth": [scope]}]
        operation["description"] = " ".join(
            [f"Needs the `{scope}` scope.", *([extra["description"]] if "description" in extra
                                             else [])])
    return operation


ACTION_ERRORS = (400, 401, 403, 404, 409, 413, 422)
# A reason only with `overwrite: true` (and then a visible one); on approval, only when posting.
OVERWRITE_RULE = {
    "if": {"required": ["overwrite"], "properties": {"overwrite": {"const": True}}},
    "then": {"required": ["overwrite_reason"],
             "properties": {"overwrite_reason": {"type": "string", "pattern": HAS_VISIBLE}}},
    "else": {"properties": {"overwrite_reason": {"type": ["string", "null"], "maxLength": 0}}},
}
OVERWRITE_NEEDS_POST = {
    "if": {"required": ["overwrite"], "properties": {"overwrite": {"const": True}}},
    "then": {"required": ["post"], "properties": {"post": {"const": True}}},
}
OVERWRITE = {
    "overwrite": {"type": ["boolean", "null"],
                  "description": "Replace the public reply someone else wrote (the review's "
                                 "public_reply, that one only), for this approval"},
    "overwrite_reason": {**_text("overwrite_reason", True),
                         "description": "Why; required with overwrite, kept in the audit log"},
}


def _api_paths() -> dict[str, Any]:
    review = {"200": _json(_ref("ReviewResult"))}
    filters = [
        {"name": "status", "in": "query", "schema": {"type": "string",
                                                     "enum": list(states.STATES)}},
        {"name": "platform", "in": "query", "schema": {"type": "string",
                                                       "enum": list(registry.platform_names())}},
        {"name": "rating", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                     "maximum": 5}},
        {"name": "language", "in": "query", "schema": {"type": "string"}},
        {"name": "escalated", "in": "query", "schema": {"type": "string",
                                                        "enum": ["true", "false"]}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                    "maximum": PAGE_MAX}},
        {"name": "cursor", "in": "query",
         "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "maxLength": 64},
         "description": "next_cursor of the previous page (empty: the first page)"},
    ]
    idem = {"name": "Idempotency-Key", "in": "header", "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                       "pattern": "^[!-~]+$"},
            "description": "Same key and body within 24 hours replays the first answer; the "
                           "same key with another body is 422; keys are per token."}
    return {
        "/api/v1/reviews": {
            "get": _op("listReviews", "List and filter reviews, newest first", READ,
                       {"200": _json(_ref("ReviewPage"))}, (400, 401, 403),
                       parameters=filters),
            "post": _op("createReview", "Create (or re-submit) one review", WRITE,
                        {"201": _json(_ref("ReviewResult"), "Created"),
                         "200": _json(_ref("ReviewResult"), "Already known")},
                        (400, 401, 403, 409, 413, 422), parameters=[idem],
                        requestBody=_body(_ref("ReviewInput"))),
        },
        "/api/v1/reviews/{review_id}": {
            "parameters": [ID_PARAM],
            "get": _op("getReview", "One review with its drafts and history", READ,
                       {"200": _json(_ref("ReviewDetail"))}, (400, 401, 403, 404)),
        },
        "/api/v1/reviews/{review_id}/drafts": {
            "parameters": [ID_PARAM],
            "post": _op("requestDraft", "Draft the reply again", WRITE,
                        {"201": _json(_ref("ReviewResult"), "Drafted")}, ACTION_ERRORS,
                        requestBody=_body({
                            "type": "object", "additionalProperties": False,
                            "properties": {"instruction": _text("instruction", True)}},
                            required=False)),
        },
        "/api/v1/reviews/{review_id}/draft": {
            "parameters": [ID_PARAM],
            "put": _op("editDraft", "Save an edited draft (a new version)", WRITE, review,
                       ACTION_ERRORS, requestBody=_body({
                           "type": "object", "additionalProperties": False,
                           "required": ["text"],
                           "properties": {"text": {**_text("text"), "minLength": 1,
                                                   "pattern": HAS_VISIBLE},
                                          "offer_id": _text("offer_id", True),
                                          "base_version": {
                                              "type": ["integer", "null"], "minimum": 1,
                                              "maximum": MAX_ID,
                                              "description": "Save only if this is still "
                                                             "the current draft (else 409 "
                                                             "draft_changed)"}}})),
        },
        "/api/v1/reviews/{review_id}/approve": {
            "parameters": [ID_PARAM],
            "post": _op("approveReply", "Approve the draft version you read, or your text "
                        "based on it, in one step", APPROVE,
                        {**review, "202": _json(_ref("PostQueued"), "Approved and queued "
                                                                     "for posting")},
                        ACTION_ERRORS, description="A draft with guardrail violations, an "
                        "escalated review or an offer that needs a manager is approved only "
                        "with an override_reason; without one the answer is 422 "
                        "needs_override, naming the concerns.", requestBody=_body({
                            "type": "object", "additionalProperties": False,
                            "required": ["draft_version"],
                            "properties": {
                                "draft_version": {"type": "integer", "minimum": 1,
                                                  "maximum": MAX_ID,
                                                  "description": "The version you read; "
                                                                 "409 draft_changed if it "
                                                                 "is no longer current"},
                                "text": {**_text("text", True),
                                         "description": "Your text, saved as a new version "
                                                        "and approved together"},
                                "offer_id": _text("offer_id", True),
                                "override_reason": _text("override_reason", True),
                                "post": {"type": ["boolean", "null"],
                                         "description": "Queue for posting too (needs "
                                                        "replies:post)"},
                                **OVERWRITE},
                            "allOf": [OVERWRITE_RULE, OVERWRITE_NEEDS_POST]})),
        },
        "/api/v1/reviews/{review_id}/post": {
            "parameters": [ID_PARAM],
            "post": _op("postReply", "Queue the approved reply for posting; the worker posts "
                        "it and the review's status shows the outcome", POST,
                        {"202": _json(_ref("PostQueued"), "Queued for posting")},
                        ACTION_ERRORS, requestBody=_body({
                            "type": "object", "additionalProperties": False,
                            "properties": OVERWRITE, **OVERWRITE_RULE}, required=False)),
        },
        "/api/v1/reviews/{review_id}/skip": {
            "parameters": [ID_PARAM],
            "post": _op("skipReview", "Skip the review (no reply)", WRITE, review,
                        ACTION_ERRORS, requestBody=_body({
                            "type": "object", "additionalProperties": False,
                            "required": ["reason"],
                            "properties": {"reason": {**_text("reason"), "minLength": 1,
                                                      "pattern": HAS_VISIBLE}}})),
        },
    }


def _webhook_paths() -> dict[str, Any]:
    signature = [{"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                 for name in ("webhook-timestamp", "webhook-signature")]
    signature.insert(0, {"name": "webhook-id", "in": "header", "required": True,
                         "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}})
    accepted = {"anyOf": [_ref("Accepted"), _ref("AcceptedBatch")]}
    return {
        "/webhooks/reviews": {"post": _op(
            "receiveReviews", "Receive one review, or a batch, signed per Standard Webhooks",
            None, {"202": _json(accepted, "Stored; drafting happens in the background"),
                   "200": _json(accepted, "Drafted (with ?wait=draft)")},
            (400, 401, 413, 422), security=[{"webhookSignature": []}],
            description=f"HMAC-SHA256 over `id.timestamp.body` with any configured `whsec_` "
                        f"secret; timestamps within 5 minutes. A repeated webhook-id, or a "
                        f"known review, is answered as the first time. Batches hold up to "
                        f"{MAX_BATCH} reviews, each (platform, external_id) once.",
            parameters=[*signature, {"name": "wait", "in": "query",
                                     "schema": {"type": "string", "enum": ["draft"]}}],
            requestBody=_body({"anyOf": [_ref("ReviewInput"), _ref("ReviewBatch")]}))},
        "/webhooks/google/pubsub": {"post": _op(
            "googlePubsubPush", "Google Business Profile Pub/Sub push (NEW_REVIEW, "
            "UPDATED_REVIEW)", None, {"200": _json(_ref("JsonObject"), "Acknowledged")},
            (400, 401, 413, 503), security=[{"pubsubToken": []}],
            parameters=[{"name": "token", "in": "query", "required": True,
                         "schema": {"type": "string"}}],
            requestBody=_body(_ref("PubsubPush")))},
        "/openapi.json": {"get": _op("openapi", "This document", None,
                                     {"200": _json(_ref("JsonObject"))}, (), security=[])},
        "/manifest.json": {"get": _op("manifest", "The plugin manifest", None,
                                      {"200": _json(_ref("JsonObject"))}, (), security=[])},
    }


def _outbound() -> dict[str, Any]:
    return {name: {"post": {
        "operationId": f"event_{name.replace('.', '_')}", "summary": spec["description"],
        "description": "Sent to subscribed endpoints, signed with the endpoint's own secret "
                       "(webhook-id stays the same on every retry).",
        "requestBody": _body(envelope_schema(name)),
        "responses": {"200": {"description": "Any 2xx acknowledges the event"},
                      "410": {"description": "Disables the endpoint"}}}}
        for name, spec in EVENTS.items()}


def build_openapi(prefix: str = "") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "MakeRight API", "version": __version__,
                 "description": "Reviews, drafts and replies for integrators. Errors are "
                                "`{\"error\": {\"code\", \"message\", \"field\"}}` with "
                                "stable codes. " + INPUT_RULES},
        "servers": [{"url": prefix or "/"}],
        "paths": {**_api_paths(), **_webhook_paths()},
        "webhooks": _outbound(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "Scopes: " + "; ".join(
                                   f"{k}: {v}" for k, v in SCOPES.items())},
                "webhookSignature": {"type": "apiKey", "in": "header",
                                     "name": "webhook-signature",
                                     "description": "Standard Webhooks v1 (HMAC-SHA256)"},
                "pubsubToken": {"type": "apiKey", "in": "query", "name": "token"},
            },
        },
    }
