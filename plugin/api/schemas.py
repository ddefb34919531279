"""The component schemas of the OpenAPI document: the review format, drafts, replies, errors
and the bodies of the REST API, each field capped as the code caps it.

Apart from the paths (`openapi.py`) because these describe data, shared by the REST API, the
webhooks and the events, while the paths describe operations.
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

from ..store import states
from .common import ERROR_CODES
from .rest import TEXT_LIMITS
from .webhooks import MAX_BATCH

NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN,
        "description": f"RFC 3339 (date, time with seconds, UTC offset), years {MIN_YEAR}-"
                       f"{MAX_YEAR}; ISO week and ordinal dates are not accepted."}
NULLABLE_TIME = {**TIME, "type": ["string", "null"]}
# Every text field: no NUL (the schema's way of saying what the input boundary refuses).
NO_NUL = r"^[^\u0000]*$"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def components() -> dict[str, Any]:
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
                             "additionalProperties": ref("JsonValue"),
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
                                                   "items": ref("ReviewInput")}}},
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
                         "properties": {"review": ref("Review"),
                                        "draft": {"oneOf": [{"type": "null"}, ref("Draft")]},
                                        "drafts": {"type": "array", "items": ref("Draft")},
                                        "history": {"type": "array",
                                                    "items": ref("AuditEntry")}}},
        "ReviewPage": {"type": "object", "required": ["reviews", "next_cursor"], "properties": {
            "reviews": {"type": "array", "items": ref("Review")},
            "next_cursor": NULLABLE_STRING}},
        "PostQueued": {"type": "object", "required": ["review", "status_url"], "properties": {
            "review": ref("Review"),
            "status_url": {"type": "string", "description": "GET it until the status is no "
                                                            "longer approved or posting"}}},
        "ReviewResult": {"type": "object", "required": ["review"], "properties": {
            "review": ref("Review"), "draft": ref("Draft"),
            "outcome": {"type": "string", "enum": ["new", "updated", "unchanged"]}}},
        "Accepted": {"type": "object", "required": ["id", "status_url"], "properties": {
            "id": {"type": "integer"}, "platform": {"type": "string"},
            "external_id": {"type": "string"}, "status_url": {"type": "string"},
            "status": {"type": "string"}, "draft": ref("Draft")}},
        "AcceptedBatch": {"type": "object", "required": ["reviews"], "properties": {
            "reviews": {"type": "array", "items": ref("Accepted")}}},
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
            {"type": "array", "items": ref("JsonValue")},
            {"type": "object", "additionalProperties": ref("JsonValue"),
             "propertyNames": {"pattern": NO_NUL}}]},
    }


def text_field(name: str, nullable: bool = False) -> dict[str, Any]:
    """A text field of a REST body, capped as the API caps it; null means "left out"."""
    return {"type": ["string", "null"] if nullable else "string",
            "maxLength": TEXT_LIMITS[name], "pattern": NO_NUL}
