"""Outbound endpoints and inbound signing secrets, for the CLI and the settings page alike.

Secrets are generated here, sealed before they are stored, and handed back exactly once.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import MakeRightError
from ..store.models import utcnow
from .delivery import UnsafeDestination, check_destination
from .events import EVENTS
from .models import Delivery, DeliveryAttempt, WebhookEndpoint, WebhookSecret
from .signing import new_secret, seal


class SubscriptionError(MakeRightError, ValueError):
    """A request a person can correct: an unknown event, an unsafe URL, an unknown id."""

    code = "invalid_subscription"
    status = 422



def add_endpoint(session: Session, url: str, events: list[str]) -> tuple[WebhookEndpoint, str]:
    """Subscribe `url` to `events` (["all"] for every event); returns the row and its secret."""
    names = list(EVENTS) if events == ["all"] else events
    unknown = sorted(set(names) - set(EVENTS))
    if unknown or not names:
        raise SubscriptionError(f"unknown event {unknown[0] if unknown else '(none)'!r}; use "
                                f"{', '.join(EVENTS)}")
    try:
        check_destination(url)
    except UnsafeDestination as exc:
        raise SubscriptionError(str(exc)) from None
    secret = new_secret()
    row = WebhookEndpoint(url=url, events=names, sealed_secret=seal(secret))
    session.add(row)
    session.flush()
    return row, secret


def _endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    row = session.get(WebhookEndpoint, endpoint_id)
    if row is None:
        raise SubscriptionError(f"no endpoint {endpoint_id}")
    return row


def remove_endpoint(session: Session, endpoint_id: int) -> None:
    session.delete(_endpoint(session, endpoint_id))


def enable_endpoint(session: Session, endpoint_id: int) -> None:
    row = _endpoint(session, endpoint_id)
    row.enabled, row.disabled_reason = True, None


def recent_attempts(session: Session, endpoint_id: int | None = None, limit: int = 50):
    """(attempt, delivery) pairs, newest first."""
    query = (select(DeliveryAttempt, Delivery).join(Delivery)
             .order_by(DeliveryAttempt.id.desc()).limit(limit))
    if endpoint_id is not None:
        query = query.where(Delivery.endpoint_id == endpoint_id)
    return session.execute(query).all()


def create_inbound_secret(session: Session, label: str) -> tuple[WebhookSecret, str]:
    if not label.strip():
        raise SubscriptionError("give the secret a label (who signs with it)")
    secret = new_secret()
    row = WebhookSecret(label=label.strip(), sealed_secret=seal(secret))
    session.add(row)
    session.flush()
    return row, secret


def revoke_inbound_secret(session: Session, secret_id: int) -> None:
    row = session.get(WebhookSecret, secret_id)
    if row is None:
        raise SubscriptionError(f"no inbound secret {secret_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
