"""Delivering the outbox at least once, on a schedule that spans about a day.

Integrator-supplied URLs are the main SSRF risk of the whole service, so a destination is
checked when it is registered and again, with a fresh DNS lookup, before every attempt:

- every address the name resolves to must be public, judged by `ipaddress` on the address and
  on any IPv4 address embedded in an IPv6 one (IPv4-mapped and -compatible, 6to4, NAT64,
  Teredo), so `2002:7f00:1::` cannot reach 127.0.0.1 by another spelling;
- the connection then goes to the address that was checked, never to a second DNS answer
  (rebinding): the request keeps its host name for the Host header, SNI and the certificate
  check, but the socket is opened to the checked address (`PinnedAdapter`);
- proxies from the environment are not used, and redirects are never followed: a 3xx is a
  failure, otherwise a public URL could bounce a signed request to an internal one.
"""
from __future__ import annotations

import ipaddress
import json
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.retry import jittered, parse_retry_after
from connectors.untrusted import printable

from ..config import WebhookSettings
from ..errors import MakeRightError
from ..store.db import Database
from ..store.locking import locked
from ..store.models import AuditRow, utcnow
from .models import Delivery, DeliveryAttempt, WebhookEndpoint
from .signing import sign, unseal

# Waits after the 1st, 2nd, ... failed attempt (the first attempt is immediate).
SCHEDULE = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
            timedelta(hours=2), timedelta(hours=5), timedelta(hours=10), timedelta(hours=24))
JITTER = 0.1
MAX_RETRY_AFTER = timedelta(hours=24)
TIMEOUT = (5.0, 15.0)
LEASE = timedelta(minutes=2)
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class UnsafeDestination(MakeRightError, ValueError):
    """The URL points somewhere an outbound webhook must never go."""

    code = "unsafe_destination"
    status = 422



def private_allowed(settings: WebhookSettings | None = None) -> bool:
    """MAKERIGHT_ALLOW_PRIVATE_WEBHOOKS, read when asked unless settings are handed in: a
    destination is checked again before every attempt, with the setting of that moment."""
    return (settings or WebhookSettings.from_env()).allow_private


# The well-known NAT64 prefix (RFC 6052) and the local-use one (RFC 8215): the last 32 bits are
# the IPv4 address a NAT64 gateway connects to.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to by a standard translation."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client)
    if any(ip in network for network in NAT64) or int(ip) >> 32 == 0:
        # NAT64, and the deprecated IPv4-compatible form ::a.b.c.d
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def blocked(address: str) -> bool:
    """True unless the address, and every IPv4 address it embeds, is an ordinary public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and (embedded := embedded_ipv4(ip)):
        # A translation is judged by where it leads; Teredo (obsolete) by both ends.
        candidates = [*embedded, ip] if ip.teredo is not None else list(embedded)
    return any(not c.is_global or c.is_multicast or c.is_reserved or c.is_unspecified
               or c.is_loopback or c.is_link_local or c.is_private for c in candidates)


def check_destination(url: str, allow_private: bool | None = None) -> str:
    """The address to connect to for `url`, after refusing URLs that are not http(s) with a
    host, carry credentials, are not https, or resolve to any non-public address."""
    allow = private_allowed() if allow_private is None else allow_private
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeDestination(f"{url!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise UnsafeDestination("webhook URLs may not carry credentials")
    if not allow and parts.scheme != "https":
        raise UnsafeDestination("webhook URLs must use https")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise UnsafeDestination(f"{parts.hostname} does not resolve: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeDestination(f"{parts.hostname} does not resolve")
    if not allow:
        for address in addresses:
            if blocked(address):
                raise UnsafeDestination(f"{parts.hostname} resolves to {address}, a loopback, "
                                        "private, link-local, reserved or embedded private "
                                        "address")
    return addresses[0]


class PinnedAdapter(HTTPAdapter):
    """Sends a request to one address already checked, whatever DNS says now.

    Only the TCP connection changes: the URL, the Host header, TLS's server name and the
    certificate's host-name check all keep the URL's host name.
    """

    def __init__(self, address: str):
        self.address = address.split("%", 1)[0]
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        name = host_params["host"]
        host_params["host"] = self.address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs


def pinned_session(address: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the checked address is the peer
    adapter = PinnedAdapter(address)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def backoff(failed_attempts: int, rng: random.Random | None = None) -> timedelta | None:
    """The wait after the n-th failed attempt, with jitter; None once the schedule is spent."""
    if failed_attempts < 1 or failed_attempts > len(SCHEDULE):
        return None
    return timedelta(seconds=jittered(SCHEDULE[failed_attempts - 1].total_seconds(), JITTER, rng))


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Parse `Retry-After` (seconds or an HTTP date), capped at a day."""
    seconds = parse_retry_after(value, now.timestamp())
    if seconds is None:
        return None
    return timedelta(seconds=min(seconds, MAX_RETRY_AFTER.total_seconds()))


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
         allow_private: bool | None = None, *, verify: bool | str = True) -> Outcome:
    """One signed POST to the checked address; never follows redirects, never raises for
    network trouble. `verify` is a CA bundle for TLS (tests); the system's by default."""
    started = perf_counter()
    try:
        address = check_destination(url, allow_private)
        parts = urlsplit(url)
        headers = {"content-type": "application/json", "user-agent": "MakeRight-Webhooks/1",
                   "host": parts.netloc.rsplit("@", 1)[-1],
                   **sign(secret, message_id, body).as_dict()}
        with pinned_session(address) as session:
            response = session.post(url, data=body, headers=headers, timeout=TIMEOUT,
                                    allow_redirects=False, verify=verify)
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
    claimed = list(session.scalars(locked(query, session, skip_locked=True)))
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
