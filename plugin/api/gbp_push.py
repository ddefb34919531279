"""Google Business Profile push: Pub/Sub tells us a review changed; we fetch it at once.

The notification is only a pointer (its exact JSON is not published, so both spellings of the
field names are accepted) and is never trusted as review content: the review is re-read through
the connector. Polling remains the fallback, so anything we cannot use is acknowledged (2xx)
rather than retried forever; a platform outage answers 503 so Pub/Sub redelivers later.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from typing import Any, Protocol

from flask import Blueprint, current_app, request
from sqlalchemy import select

from connectors.base import Review, ReviewError
from connectors.errors import ConnectorError
from connectors.text import quote
from connectors.untrusted import InputError, decode_json

from .. import intake
from ..context import get_connector_for, get_db, get_intake_sources, get_policy
from ..extensions import csrf
from ..sources.models import SourceRow
from .common import ApiError, json_errors
from .webhooks import accepted_json, read_limited_body

log = logging.getLogger(__name__)
HANDLED = frozenset({"NEW_REVIEW", "UPDATED_REVIEW"})
DOOR = intake.Door("google_pubsub")
REVIEW_NAME = re.compile(r"accounts/[\w-]{1,100}/locations/[\w-]{1,100}/reviews/[\w-]{1,400}",
                         re.ASCII)

bp = Blueprint("gbp", __name__)
csrf.exempt(bp)
json_errors(bp)


class ReviewFetcher(Protocol):
    def fetch_review(self, name: str) -> Review: ...


def _connector(review_name: str) -> tuple[ReviewFetcher, str]:
    """The connector of the configured Google Business source that owns the review's location,
    and that source's name."""
    location = review_name.split("/reviews/", 1)[0]
    with get_db().session() as session:
        sources = session.scalars(select(SourceRow).where(
            SourceRow.kind == "google_business", SourceRow.enabled.is_(True))).all()
        name = next((s.name for s in sources if location in s.settings.get("locations", [])),
                    None)
    if name is None:
        raise LookupError(f"no enabled google_business source lists {location}")
    return get_connector_for()(name), name  # type: ignore[return-value]


def _pick(data: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value:
            return value
    return None


class Unusable(ValueError):
    """A push envelope whose message cannot be read: acknowledged, since Pub/Sub would
    otherwise redeliver the same bytes for days, and polling covers whatever it was."""


def parse_notification(envelope: Any) -> tuple[str | None, str | None]:
    """(notification type, review name) from a Pub/Sub push envelope; Unusable if the
    message's data cannot be read."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("message"), dict):
        raise ApiError(400, "invalid_request", "Expected a Pub/Sub push envelope with a message.")
    message = envelope["message"]
    for field, holder, key, wanted in (("subscription", envelope, "subscription", str),
                                     ("message.data", message, "data", str),
                                     ("message.messageId", message, "messageId", str),
                                     ("message.attributes", message, "attributes", dict)):
        if key in holder and not isinstance(holder[key], wanted):
            raise ApiError(400, "invalid_request", f"{field}: must be "
                           f"{'a string' if wanted is str else 'an object'}", field)
    attributes = message.get("attributes") if isinstance(message.get("attributes"), dict) else {}
    try:
        raw = base64.b64decode(message.get("data") or "", validate=True) or b"{}"
    except (binascii.Error, ValueError, TypeError):
        raise Unusable("message.data is not base64") from None
    try:
        data = decode_json(raw, field="message.data")
    except InputError as exc:
        raise Unusable(str(exc)) from None
    if not isinstance(data, dict):
        raise Unusable("message.data is not a JSON object")
    kind = _pick(data, "notificationType", "notification_type", "type") or \
        _pick(attributes, "notificationType", "notification_type", "type")
    name = _pick(data, "reviewName", "review_name") or _pick(attributes, "reviewName",
                                                             "review_name")
    return kind, name


def _envelope(body: bytes) -> Any:
    """The push body: unreadable JSON is the sender's error (400); readable JSON with a field
    that is not text (NUL, a lone surrogate) is a message nobody can use, acknowledged."""
    try:
        return decode_json(body)
    except InputError as exc:
        if exc.field == "body":
            raise ApiError(400, "invalid_request", str(exc), exc.field) from None
        raise Unusable(str(exc)) from None


@bp.post("/webhooks/google/pubsub")
def pubsub_push():
    expected = str(current_app.config.get("GOOGLE_PUBSUB_TOKEN") or "")
    given = request.args.get("token", "")
    if not expected or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise ApiError(401, "unauthorized", "Unknown push token.")
    try:
        kind, name = parse_notification(_envelope(read_limited_body()))
    except Unusable as exc:
        log.warning("pubsub message ignored: %s", quote(exc))
        return {"ignored": True, "reason": str(exc)}, 200
    if name is None or (kind is not None and kind not in HANDLED):
        log.info("pubsub notification ignored: type=%s", quote(kind))
        return {"ignored": True, "reason": "not a review notification"}, 200
    if not REVIEW_NAME.fullmatch(name):
        # The name becomes part of an authorised Google API URL: nothing but the documented
        # shape may reach it (no "..", no query string).
        log.warning("pubsub review name refused: %s", quote(name))
        return {"ignored": True,
                "reason": "reviewName is not accounts/*/locations/*/reviews/*"}, 200
    try:
        connector, source = _connector(name)
        review = connector.fetch_review(name)
        review.source = source or review.source
        review = review.validated()
    except LookupError as exc:
        log.warning("pubsub review %s ignored: %s", quote(name), quote(exc))
        return {"ignored": True, "reason": str(exc)}, 200
    except ReviewError as exc:
        # Nothing Pub/Sub could redeliver would change it; polling skips it the same way.
        log.warning("pubsub review %s refused: %s", quote(name), quote(exc))
        return {"ignored": True, "reason": str(exc)}, 200
    except ConnectorError as exc:
        if exc.retryable:
            raise ApiError(503, "upstream_unavailable", str(exc)) from None
        log.warning("pubsub review %s could not be fetched: %s", quote(name), quote(exc))
        return {"ignored": True, "reason": str(exc)}, 200
    policy = get_policy()
    classified = intake.classify([review], policy, get_intake_sources([review], policy))
    with get_db().session() as session:
        stored, = intake.store(session, classified, DOOR)
        answer = accepted_json(stored.row)
    return answer, 200
