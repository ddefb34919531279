"""The OpenAPI 3.1 document of the REST API, the inbound webhooks and the outbound events.

It is built from the same constants the code uses (platforms, states, scopes, error codes,
event schemas, batch and page limits), and a test checks that every route exists here and every
operation here exists as a route, so the document cannot drift from the app.
"""
from __future__ import annotations

from typing import Any

from connectors import registry
from connectors.text import HAS_VISIBLE
from connectors.untrusted import MAX_DEPTH

from .. import __version__
from ..inputs import MAX_ID
from ..outbound.events import EVENTS, envelope_schema
from ..store import states
from .rest import PAGE_MAX
from .schemas import components, ref, text_field
from .tokens import APPROVE, POST, READ, SCOPES, WRITE
from .webhooks import MAX_BATCH

ID_PARAM = {"name": "review_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
INPUT_RULES = (f"Bodies are UTF-8 JSON nested at most {MAX_DEPTH} levels, without duplicate "
               "keys, NaN or Infinity; no string may hold NUL (U+0000) or a lone surrogate. "
               "Errors name the field (`reviews[2].metadata.app`).")


def _json(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"description": description or "OK",
            "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    described = {400: "Malformed request", 401: "Not authenticated", 403: "Not allowed",
                 404: "Not found", 409: "Conflict with the review's state, its current draft "
                 "version or a concurrent request", 413: "Body too large",
                 422: "Invalid body (the field is named)", 503: "Upstream unavailable"}
    return {str(code): _json(ref("Error"), described[code]) for code in codes}


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
    "overwrite_reason": {**text_field("overwrite_reason", True),
                         "description": "Why; required with overwrite, kept in the audit log"},
}


def _api_paths() -> dict[str, Any]:
    review = {"200": _json(ref("ReviewResult"))}
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
                       {"200": _json(ref("ReviewPage"))}, (400, 401, 403),
                       parameters=filters),
            "post": _op("createReview", "Create (or re-submit) one review", WRITE,
                        {"201": _json(ref("ReviewResult"), "Created"),
                         "200": _json(ref("ReviewResult"), "Already known")},
                        (400, 401, 403, 409, 413, 422), parameters=[idem],
                        requestBody=_body(ref("ReviewInput"))),
        },
        "/api/v1/reviews/{review_id}": {
            "parameters": [ID_PARAM],
            "get": _op("getReview", "One review with its drafts and history", READ,
                       {"200": _json(ref("ReviewDetail"))}, (400, 401, 403, 404)),
        },
        "/api/v1/reviews/{review_id}/drafts": {
            "parameters": [ID_PARAM],
            "post": _op("requestDraft", "Draft the reply again", WRITE,
                        {"201": _json(ref("ReviewResult"), "Drafted")}, ACTION_ERRORS,
                        requestBody=_body({
                            "type": "object", "additionalProperties": False,
                            "properties": {"instruction": text_field("instruction", True)}},
                            required=False)),
        },
        "/api/v1/reviews/{review_id}/draft": {
            "parameters": [ID_PARAM],
            "put": _op("editDraft", "Save an edited draft (a new version)", WRITE, review,
                       ACTION_ERRORS, requestBody=_body({
                           "type": "object", "additionalProperties": False,
                           "required": ["text"],
                           "properties": {"text": {**text_field("text"), "minLength": 1,
                                                   "pattern": HAS_VISIBLE},
                                          "offer_id": text_field("offer_id", True),
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
                        {**review, "202": _json(ref("PostQueued"), "Approved and queued "
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
                                "text": {**text_field("text", True),
                                         "description": "Your text, saved as a new version "
                                                        "and approved together"},
                                "offer_id": text_field("offer_id", True),
                                "override_reason": text_field("override_reason", True),
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
                        {"202": _json(ref("PostQueued"), "Queued for posting")},
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
                            "properties": {"reason": {**text_field("reason"), "minLength": 1,
                                                      "pattern": HAS_VISIBLE}}})),
        },
    }


def _webhook_paths() -> dict[str, Any]:
    signature = [{"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                 for name in ("webhook-timestamp", "webhook-signature")]
    signature.insert(0, {"name": "webhook-id", "in": "header", "required": True,
                         "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}})
    accepted = {"anyOf": [ref("Accepted"), ref("AcceptedBatch")]}
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
            requestBody=_body({"anyOf": [ref("ReviewInput"), ref("ReviewBatch")]}))},
        "/webhooks/google/pubsub": {"post": _op(
            "googlePubsubPush", "Google Business Profile Pub/Sub push (NEW_REVIEW, "
            "UPDATED_REVIEW)", None, {"200": _json(ref("JsonObject"), "Acknowledged")},
            (400, 401, 413, 503), security=[{"pubsubToken": []}],
            parameters=[{"name": "token", "in": "query", "required": True,
                         "schema": {"type": "string"}}],
            requestBody=_body(ref("PubsubPush")))},
        "/openapi.json": {"get": _op("openapi", "This document", None,
                                     {"200": _json(ref("JsonObject"))}, (), security=[])},
        "/manifest.json": {"get": _op("manifest", "The plugin manifest", None,
                                      {"200": _json(ref("JsonObject"))}, (), security=[])},
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
            "schemas": components(),
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
