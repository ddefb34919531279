"""Schemathesis hooks for the run in test_schemathesis.py (loaded with SCHEMATHESIS_HOOKS).

They play an honest integrator's part, so generated requests reach the code behind the
authentication: webhook bodies are signed with Standard Webhooks over the exact bytes sent,
Google push requests carry the configured token, each created review gets a fresh
Idempotency-Key (reusing one with another body is a documented 422), a cursor is one the API
could have issued, and dates are drawn from the documented years. A request the generator made
invalid on purpose (a header or parameter left out, a value off the documented pattern) is left
as it is.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid
from datetime import UTC, datetime

import schemathesis
from hypothesis import strategies as st

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
CURSOR = re.compile(r"[A-Za-z0-9_-]*")

# The generator's own date-time strategy spans years 1-9999; the document allows 1990-2199.
schemathesis.openapi.format("date-time", st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2199, 12, 31),
    timezones=st.just(UTC)).map(lambda moment: moment.isoformat()))


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if path == "/webhooks/reviews" and not _probing(case, "header"):
        headers = case.headers or {}
        body = _body(case)
        if _unique_ids(case) and not _probing(case, "body"):
            body = _body(case)
        if body is not None and all(name in headers for name in SIGNATURE_HEADERS):
            case.headers = {**headers, **_signature(body)}
            kwargs["data"] = body  # exactly the bytes that were signed
    elif path == "/webhooks/google/pubsub" and case.query and "token" in case.query \
            and not _probing(case, "query"):
        case.query = {**case.query, "token": os.environ["ST_PUBSUB_TOKEN"]}
    elif path == "/api/v1/reviews" and case.method == "POST" and not _probing(case, "header") \
            and "Idempotency-Key" in (case.headers or {}):
        case.headers = {**case.headers, "Idempotency-Key": uuid.uuid4().hex}
    elif path == "/api/v1/reviews" and case.method == "GET" and not _probing(case, "query"):
        cursor = (case.query or {}).get("cursor")
        if isinstance(cursor, str) and cursor and CURSOR.fullmatch(cursor):
            # A cursor of the documented shape becomes one the API issues.
            issued = base64.urlsafe_b64encode(f"id:{len(cursor) + 1}".encode()).decode()
            case.query = {**case.query, "cursor": issued.rstrip("=")}


def _unique_ids(case) -> bool:
    """An integrator sends each review once per batch (the API refuses repeats, naming both,
    which a schema cannot say); repeated ids in a generated batch get a suffix."""
    reviews = case.body.get("reviews") if isinstance(case.body, dict) else None
    if not isinstance(reviews, list):
        return False
    seen, changed = set(), False
    for index, review in enumerate(reviews):
        if not isinstance(review, dict) or not isinstance(review.get("platform", "other"), str) \
                or type(review.get("external_id")) not in (str, int):
            continue
        key = (review.get("platform", "other"), str(review["external_id"]).strip())
        if key in seen:
            review["external_id"] = f"{review['external_id']}-{index}"
            changed = True
        seen.add((review.get("platform", "other"), str(review["external_id"]).strip()))
    return changed


def _probing(case, location: str) -> bool:
    """Whether this case deliberately breaks the given part of the request (a header left
    out, a parameter off its pattern): such a case is sent exactly as generated."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    return getattr(getattr(meta.phase.data, "parameter_location", None), "value", None) \
        == location


def _body(case) -> bytes | None:
    if isinstance(case.body, bytes):
        return case.body
    if isinstance(case.body, (dict, list, str, int, float, bool, type(None))):
        return json.dumps(case.body).encode()
    return None  # no body at all: sent unsigned, and refused as such


def _signature(body: bytes) -> dict[str, str]:
    """Standard Webhooks over raw bytes (the library signs text; negative cases send bytes
    that are not UTF-8, which must be refused for their encoding, not their signature)."""
    message_id, stamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    key = base64.b64decode(os.environ["ST_WEBHOOK_SECRET"].removeprefix("whsec_"))
    mac = hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": message_id, "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode()}


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    """Point most generated ids at the reviews the test stored, so actions reach the code
    beyond "no such review"; an id past them still checks the 404."""
    review_id = (path_parameters or {}).get("review_id")
    if isinstance(review_id, int) and not isinstance(review_id, bool) and review_id > 0:
        path_parameters["review_id"] = review_id % (int(os.environ["ST_SEEDED_REVIEWS"]) + 1) + 1
    return path_parameters
