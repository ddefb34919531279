"""Delivering the outbox at least once, on a schedule that spans about a day.

Integrator-supplied URLs are the main SSRF risk of the whole service, so a destination is
checked when it is registered and again, with a fresh DNS lookup, before every attempt.
Redirects are never followed: a 3xx is a failure, otherwise a public URL could bounce a signed
request to an internal one.
"""
from __future__ import annotations

import ipaddress
import json
import os
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from time import perf_counter
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.untrusted import printable

from ..store.db import Database, is_sqlite
from ..store.models import AuditRow, utcnow
from .models import Delivery, DeliveryAttempt, WebhookEndpoint
from .signing import sign, unseal

ENV_ALLOW_PRIVATE = "MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS"
# Waits after the 1st, 2nd, ... failed attempt (the first attempt is immediate).
SCHEDULE = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
            timedelta(hours=2), timedelta(hours=5), timedelta(hours=10), timedelta(hours=24))
JITTER = 0.1
MAX_RETRY_AFTER = timedelta(hours=24)
TIMEOUT = (5.0, 15.0)
LEASE = timedelta(minutes=2)
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class UnsafeDestination(ValueError):
    """The URL points somewhere an outbound webhook must never go."""


def private_allowed() -> bool:
    return os.environ.get(ENV_ALLOW_PRIVATE, "").strip().lower() in {"1", "true", "yes"}


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def check_destination(url: str, allow_private: bool | None = None) -> None:
    """Refuse URLs that are not https, or whose host resolves to a non-public address."""
    allow = private_allowed() if allow_private is None else allow_private
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeDestination(f"{url!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise UnsafeDestination("webhook URLs may not carry credentials")
    if allow:
        return
    if parts.scheme != "https":
        raise UnsafeDestination("webhook URLs must use https")
    try:
        port = parts.port or 443
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, ValueError) as exc:
        raise UnsafeDestination(f"{parts.hostname} does not resolve: {exc}") from None
    for info in infos:
        address = str(info[4][0])
        if _blocked(address):
            raise UnsafeDestination(f"{parts.hostname} resolves to {address}, a loopback, "
                                    "private, link-local or reserved address")


def backoff(failed_attempts: int, rng: random.Random | None = None) -> timedelta | None:
    """The wait after the n-th failed attempt, with jitter; None once the schedule is spent."""
    if failed_attempts < 1 or failed_attempts > len(SCHEDULE):
        return None
    base = SCHEDULE[failed_attempts - 1]
    return base * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Parse `Retry-After` (seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    try:
        wait = timedelta(seconds=max(0, int(value)))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        wait = max(timedelta(0), when - now)
    return min(wait, MAX_RETRY_AFTER)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    retry_after: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(url: str, secret: str, message_id: str, body: bytes,
         allow_private: bool | None = None) -> Outcome:
    """One signed POST; never follows redirects, never raises for network trouble."""
    started = perf_counter()
    try:
        check_destination(url, allow_private)
        headers = {"content-type": "application/json", "user-agent": "MakeRight-Webhooks/1",
                   **sign(secret, message_id, body).as_dict()}
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT,
                                 allow_redirects=False)
    except UnsafeDestination as exc:
        return Outcome(None, f"refused: {exc}", None, _elapsed(started))
    except requests.RequestException as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}", None, _elapsed(started))
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(response.status_code, error, response.headers.get("Retry-After"),
                   _elapsed(started))


def _elapsed(started: float) -> int:
    return int((perf_counter() - started) * 1000)


def _claim(session: Session, now: datetime, limit: int) -> list[int]:
    query = (select(Delivery).where(Delivery.status == PENDING, Delivery.next_attempt_at <= now)
             .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
    if not is_sqlite(session.get_bind()):
        query = query.with_for_update(skip_locked=True)
    claimed = list(session.scalars(query))
    for delivery in claimed:
        # A lease: if this process dies mid-send, the delivery becomes due again later.
        delivery.next_attempt_at = now + LEASE
    return [delivery.id for delivery in claimed]


def deliver_due(db: Database, now: datetime | None = None, limit: int = 50,
                rng: random.Random | None = None) -> int:
    """Attempt every due delivery once; returns how many attempts were made."""
    moment = now or utcnow()
    with db.session() as session:
        ids = _claim(session, moment, limit)
    for delivery_id in ids:
        with db.session() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                continue
            endpoint, event = delivery.endpoint, delivery.event
            url, sealed, enabled = endpoint.url, endpoint.sealed_secret, endpoint.enabled
            message_id, payload = event.message_id, event.payload
        if not enabled:
            outcome = Outcome(None, "endpoint disabled", None, 0)
        else:
            body = _body(payload)
            outcome = send(url, unseal(sealed), message_id, body)
        with db.session() as session:
            _record(session, delivery_id, outcome, moment, rng)
    return len(ids)


def _body(payload: dict) -> bytes:
    """The event as sent; an escape stands in for a value stored before the input rules (a
    lone surrogate), so one old row cannot stop delivery for good."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return printable(text).encode("utf-8")


def _record(session: Session, delivery_id: int, outcome: Outcome, now: datetime,
            rng: random.Random | None) -> None:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        return
    endpoint = delivery.endpoint
    delivery.attempts += 1
    delivery.last_error = outcome.error
    next_at: datetime | None = None
    if outcome.ok:
        delivery.status, delivery.next_attempt_at = DELIVERED, None
    elif outcome.status_code == 410:
        delivery.status, delivery.next_attempt_at = DEAD, None
        _disable(session, endpoint, "the endpoint answered 410 Gone")
    elif not endpoint.enabled:
        delivery.status, delivery.next_attempt_at = DEAD, None
    else:
        wait = backoff(delivery.attempts, rng)
        if wait is None:
            delivery.status, delivery.next_attempt_at = DEAD, None
            _disable(session, endpoint, f"delivery failed {delivery.attempts} times over the "
                                        f"whole retry schedule: {outcome.error}")
        else:
            asked = retry_after(outcome.retry_after, now)
            next_at = now + max(wait, asked or timedelta(0))
            delivery.next_attempt_at = next_at
    session.add(DeliveryAttempt(delivery_id=delivery.id, number=delivery.attempts, at=now,
                                status_code=outcome.status_code, error=outcome.error,
                                duration_ms=outcome.duration_ms, next_attempt_at=next_at))


def _disable(session: Session, endpoint: WebhookEndpoint, reason: str) -> None:
    if not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    # The audit log is where an administrator looks for what needs them.
    session.add(AuditRow(review_id=None, actor="webhooks", action="webhook_endpoint_disabled",
                         reason=f"endpoint {endpoint.id} ({endpoint.url}): {reason}"))
