"""The inbound integrator webhook.

Order matters: size first, then the signature over the exact bytes, then parsing, then one
transaction that stores the review(s) and the receipt of the `webhook-id`. A rejected request
(413, 401, 422) therefore writes nothing, and a repeated message id is answered from its
receipt. Drafting is not in the request path: workers draft new reviews; `?wait=draft` drafts
just these reviews the same way (`draft_pending`) and waits a bounded time.
"""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.base import Review, ReviewError

from .. import intake
from ..context import get_db, get_drafter, get_intake_sources, get_policy
from ..drafting import Drafter
from ..drafting.offline import OfflineDrafter
from ..extensions import csrf
from ..outbound.signing import configured_secrets, inbound_secrets, verify
from ..pipeline.config import PipelineSettings
from ..pipeline.steps import draft_new
from ..policy import Policy
from ..store.db import Database
from ..store.models import ReviewRow
from ..store.reviews import current_draft
from .common import ApiError, draft_json, json_errors, parse_json, review_url
from .models import WebhookReceipt

MAX_BATCH = 100
DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_WAIT_SECONDS = 10.0
DOOR = intake.Door("webhook")

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)
json_errors(bp)


def max_bytes() -> int:
    return int(current_app.config.get("WEBHOOK_MAX_BYTES") or DEFAULT_MAX_BYTES)


def read_limited_body() -> bytes:
    """The raw body, refusing anything over the limit before reading it when possible."""
    limit = max_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "payload_too_large", f"The body is larger than {limit} bytes.")
    request.max_content_length = limit
    body = request.get_data(cache=True)
    if len(body) > limit:
        raise ApiError(413, "payload_too_large", f"The body is larger than {limit} bytes.")
    return body


def parse_reviews(body: bytes) -> tuple[list[Review], bool]:
    """Reviews in the body and whether it was a batch; ApiError 422 names the bad field."""
    data = parse_json(body, malformed_status=422)
    batch = isinstance(data, dict) and "reviews" in data
    if batch:
        items = data["reviews"]
        if set(data) != {"reviews"}:
            extra = sorted(set(data) - {"reviews"})[0]
            raise ApiError(422, "invalid_review", f"{extra}: is not a batch field", extra)
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise ApiError(422, "invalid_review", f"reviews: must be a list of 1 to {MAX_BATCH} "
                                                  "reviews", "reviews")
    else:
        items = [data]
    reviews: list[Review] = []
    first_seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        where = f"reviews[{index}]." if batch else ""
        try:
            review = Review.from_json(item)
        except ReviewError as exc:
            field = f"{where}{exc.field}"
            raise ApiError(422, "invalid_review", f"{field}: {exc.problem}", field) from None
        key = (review.platform, review.external_id)
        if key in first_seen:
            # Stored in turn, the second would overwrite the first and be audited as the
            # customer editing their review.
            field = f"{where}external_id"
            raise ApiError(422, "invalid_review",
                           f"{field}: repeats reviews[{first_seen[key]}].external_id "
                           f"({review.external_id!r} on {review.platform}); send each review "
                           "once per batch", field)
        first_seen[key] = index
        reviews.append(review)
    return reviews, batch


def signature_ok(body: bytes, headers: dict[str, str]) -> bool:
    """Configured secrets first (no database round trip), then secrets created in the app."""
    configured = current_app.config.get("WEBHOOK_SECRETS")
    if verify(body, headers, configured_secrets(configured)):
        return True
    with get_db().session() as session:
        return verify(body, headers, inbound_secrets(session, None))


def accepted_json(row: ReviewRow) -> dict[str, Any]:
    return {"id": row.id, "platform": row.platform, "external_id": row.external_id,
            "status_url": review_url(row.id)}


@bp.post("/webhooks/reviews")
def receive_reviews():
    body = read_limited_body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    if not signature_ok(body, headers):
        raise ApiError(401, "invalid_signature", "The webhook signature does not verify "
                                                 "(headers, timestamp within 5 minutes, or "
                                                 "secret).")
    webhook_id = headers["webhook-id"]
    if len(webhook_id) > 255 or not all(33 <= ord(ch) < 127 for ch in webhook_id):
        raise ApiError(422, "invalid_request", "webhook-id must be 1-255 visible ASCII "
                                               "characters.", "webhook-id")
    wait = request.args.getlist("wait")
    if wait not in ([], ["draft"]):
        raise ApiError(422, "invalid_request", "wait: the only value is 'draft'", "wait")
    reviews, batch = parse_reviews(body)
    policy = get_policy()
    classified = intake.classify(reviews, policy, get_intake_sources(reviews, policy))
    db = get_db()
    try:
        with db.session() as session:
            stored = _receipt(session, webhook_id)
            if stored is not None:
                return stored.response, stored.status_code
            rows = [stored.row for stored in intake.store(session, classified, DOOR)]
            items = [accepted_json(row) for row in rows]
            answer: dict[str, Any] = {"reviews": items} if batch else items[0]
            receipt = WebhookReceipt(webhook_id=webhook_id, status_code=202, response=answer)
            session.add(receipt)
            session.flush()
            ids = [row.id for row in rows]
    except IntegrityError:
        # The same message arrived twice at once; the first one's answer stands.
        with db.session() as session:
            stored = _receipt(session, webhook_id)
        if stored is None:
            raise
        return stored.response, stored.status_code
    if not wait:
        return answer, 202
    return _wait_for_drafts(db, webhook_id, ids, batch)


def _receipt(session: Session, webhook_id: str) -> WebhookReceipt | None:
    return session.scalar(select(WebhookReceipt).where(WebhookReceipt.webhook_id == webhook_id))


def _wait_for_drafts(db: Database, webhook_id: str, ids: list[int], batch: bool):
    deadline = time.monotonic() + float(current_app.config.get("WEBHOOK_WAIT_SECONDS")
                                        or DEFAULT_WAIT_SECONDS)
    policy, drafter = get_policy(), get_drafter()
    while True:
        draft_pending(db, policy, limit=len(ids), drafter=drafter, ids=ids)
        with db.session() as session:
            rows = [session.get(ReviewRow, review_id) for review_id in ids]
            drafts = [current_draft(session, row) if row else None for row in rows]
            if all(drafts):
                items = [{**accepted_json(row), "status": row.status,
                          "draft": draft_json(draft)}
                         for row, draft in zip(rows, drafts, strict=True) if row and draft]
                answer = {"reviews": items} if batch else items[0]
                receipt = _receipt(session, webhook_id)
                if receipt is not None:
                    receipt.status_code, receipt.response = 200, answer
                return answer, 200
            answer = {"reviews": [accepted_json(row) for row in rows if row]} if batch else \
                accepted_json(rows[0]) if rows[0] else {}
        if time.monotonic() >= deadline:
            return answer, 202
        time.sleep(0.2)


def draft_pending(db: Database, policy: Policy, limit: int = 20, drafter: Drafter | None = None,
                  ids: list[int] | None = None) -> int:
    """Draft up to `limit` new reviews now, the way a worker does; how many drafts were saved."""
    drafted, _ = draft_new(db, policy, drafter or OfflineDrafter(), "webhook",
                           lease=PipelineSettings().draft_lease, limit=limit, ids=ids)
    return drafted
