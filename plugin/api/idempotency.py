"""Idempotency keys (Stripe semantics, IETF draft status codes), scoped per token.

The key row is inserted in the same transaction as the work it guards, so the unique
constraint on (token, key) is the claim: a concurrent request with the same key waits for the
first to commit and then replays its answer, and there is never a second review. Keys are kept
for RETENTION (24 hours); a key older than that is treated as new.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..store.models import utcnow
from .common import ApiError
from .models import IdempotencyKey, WebhookReceipt

RETENTION = timedelta(hours=24)
RECEIPT_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class Stored:
    status_code: int
    body: dict[str, Any]


def check_key(value: str | None) -> str:
    if value is None:
        raise ApiError(400, "idempotency_key_required",
                       "Send an Idempotency-Key header (a UUID is a good choice).")
    key = value.strip().strip('"')
    if not 1 <= len(key) <= 255 or not all(33 <= ord(ch) < 127 for ch in key):
        raise ApiError(400, "idempotency_key_invalid",
                       "The Idempotency-Key must be 1-255 visible ASCII characters.")
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def claim(session: Session, token_id: int, key: str, print_: str) -> IdempotencyKey | Stored:
    """Claim the key inside the caller's transaction, or return the answer to replay.

    Raises ApiError 422 when the key was used for a different request and 409 when the first
    request has not finished.
    """
    existing = _find(session, token_id, key)
    if existing is not None and existing.created_at < utcnow() - RETENTION:
        session.delete(existing)
        session.flush()
        existing = None
    if existing is None:
        row = IdempotencyKey(token_id=token_id, key=key, fingerprint=print_)
        try:
            with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            existing = _find(session, token_id, key)
            if existing is None:
                raise ApiError(409, "idempotency_conflict", "A request with this key is "
                                                            "still being processed.") from None
    if existing.fingerprint != print_:
        raise ApiError(422, "idempotency_key_reused", "This Idempotency-Key was already used "
                                                      "with a different request.")
    if existing.status_code is None or existing.response is None:
        raise ApiError(409, "idempotency_conflict", "A request with this key is still being "
                                                    "processed.")
    return Stored(existing.status_code, existing.response)


def _find(session: Session, token_id: int, key: str) -> IdempotencyKey | None:
    return session.scalar(select(IdempotencyKey).where(IdempotencyKey.token_id == token_id,
                                                       IdempotencyKey.key == key))


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Delete idempotency keys and webhook receipts past their documented windows."""
    moment = now or utcnow()
    keys = cast(CursorResult[Any], session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < moment - RETENTION)))
    receipts = cast(CursorResult[Any], session.execute(
        delete(WebhookReceipt).where(WebhookReceipt.received_at < moment - RECEIPT_RETENTION)))
    return int(keys.rowcount or 0) + int(receipts.rowcount or 0)
