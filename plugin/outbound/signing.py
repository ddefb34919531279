"""Standard Webhooks signing and verification, and sealing of the secrets behind them.

Verification always runs on the exact bytes received, through the `standardwebhooks` library,
before anything parses the body. Several secrets may be live at once so an integrator can
rotate: a message signed by any one of them is accepted.
"""
from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from math import floor

from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import (
    EmptyWebhookSecretError,
    Webhook,
    WebhookVerificationError,
    hmac_data,
)

from ..secrets import SecretBox, SecretKeyError, load_box
from .models import WebhookEndpoint, WebhookSecret

SECRET_PREFIX = "whsec_"
ENV_SECRETS = "MAKERIGHT_WEBHOOK_SECRETS"


def new_secret() -> str:
    """A fresh `whsec_` secret: 32 random bytes, inside the spec's 24-64 byte range."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def is_valid_secret(value: str) -> bool:
    if not value.startswith(SECRET_PREFIX):
        return False
    try:
        raw = base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return False
    return 24 <= len(raw) <= 64


def seal(secret: str) -> str:
    """Encrypt a signing secret with the same keys as source credentials (`secrets rotate`)."""
    return load_box(create=True).seal({"secret": secret})


def unseal(sealed: str, label: str = "a webhook signing secret") -> str:
    try:
        return load_box().open(sealed, label)["secret"]
    except SecretKeyError as exc:
        raise RuntimeError(str(exc)) from None


def rotate_sealed(session: Session, box: SecretBox) -> int:
    """Re-encrypt every stored signing secret under the first key; how many were rewritten."""
    count = 0
    rows: chain[WebhookEndpoint | WebhookSecret] = chain(
        session.scalars(select(WebhookEndpoint)), session.scalars(select(WebhookSecret)))
    for row in rows:
        row.sealed_secret = box.rotate(row.sealed_secret, f"{row.__tablename__} {row.id}")
        count += 1
    session.flush()
    return count


def configured_secrets(value: object) -> list[str]:
    """Secrets from configuration: a comma-separated string or a list."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore

    return [item.strip() for item in items if str(item).strip()]


def inbound_secrets(session: Session, configured: object) -> list[str]:
    """Every secret an inbound message may be signed with: configuration, then the database."""
    found = configured_secrets(configured)
    sealed = session.scalars(select(WebhookSecret.sealed_secret)
                             .where(WebhookSecret.revoked_at.is_(None))).all()
    return found + [unseal(item) for item in sealed]


@dataclass(frozen=True)
class SignedHeaders:
    webhook_id: str
    timestamp: int
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {"webhook-id": self.webhook_id, "webhook-timestamp": str(self.timestamp),
                "webhook-signature": self.signature}


def sign(secret: str, message_id: str, body: bytes, at: datetime | None = None) -> SignedHeaders:
    """Headers for one delivery attempt: the id stays, the timestamp and signature are fresh."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    signature = Webhook(secret).sign(message_id, moment, body.decode("utf-8"))
    return SignedHeaders(message_id, int(moment.timestamp()), signature)


class _RawBodyWebhook(Webhook):
    """The library's verification (headers, tolerance, several signatures, constant-time
    comparison) over the body's exact bytes.

    The library signs text; a body that is not UTF-8 could then not be checked at all, and its
    sender would be told the signature is wrong when the real problem is the encoding. The
    body therefore travels through the library as Latin-1, one character per byte, and is
    turned back into those same bytes here, so what is signed is always what was received.
    """

    def sign(self, msg_id: str, timestamp: datetime, data: str) -> str:
        stamp = str(floor(timestamp.replace(tzinfo=UTC).timestamp()))
        digest = hmac_data(self._whsecret, f"{msg_id}.{stamp}.".encode() + data.encode("latin-1"))
        return f"v1,{base64.b64encode(digest).decode('ascii')}"


def verify(body: bytes, headers: dict[str, str], candidates: list[str]) -> bool:
    """True if any candidate secret signed these exact bytes within the five-minute window."""
    wanted = {name: headers.get(name, "") for name in
              ("webhook-id", "webhook-timestamp", "webhook-signature")}
    if not all(wanted.values()) or "." in wanted["webhook-id"] or not candidates:
        return False
    text = body.decode("latin-1")
    for secret in candidates:
        try:
            _RawBodyWebhook(secret).verify(text, wanted, json_parse=False)
            return True
        except (WebhookVerificationError, EmptyWebhookSecretError, ValueError, TypeError):
            continue
    return False
