"""Credentials that sign requests: Google OAuth access tokens and App Store Connect JWTs.

Both mint short-lived tokens in memory and never write them anywhere; reprs hide every secret.
Google access tokens cost a round trip to the token endpoint, so they are kept in a process-wide
cache keyed by the credentials they were minted for: connectors are built per job (a sync, a
post), and without it every post of a source would fetch a fresh token.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import jwt
import requests
from google.auth.credentials import Credentials

from .errors import AuthenticationError, TransientError

APP_STORE_AUDIENCE = "appstoreconnect-v1"
#: Apple rejects tokens that expire more than 20 minutes ahead; stay well inside that.
APP_STORE_TOKEN_SECONDS = 15 * 60


class TokenCache:
    """Access tokens with their expiry, by credentials fingerprint; safe across threads."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, datetime] | None:
        with self._lock:
            return self._tokens.get(key)

    def put(self, key: str, token: str, expiry: datetime) -> None:
        with self._lock:
            self._tokens[key] = (token, expiry)

    def drop(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


#: The cache every Google connector of this process shares.
TOKENS = TokenCache()


def credentials_key(*parts: str) -> str:
    """A fingerprint of the credentials a token is minted for; no secret can be read back."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


@dataclass
class GoogleAuth:
    """Bearer tokens from a google-auth credentials object, refreshed on expiry or on demand.

    With a `cache_key`, a token minted by any connector for the same credentials is reused
    until google-auth considers it expired (it keeps a safety margin before the real expiry).
    """

    label: str
    credentials: Credentials = field(repr=False)
    session: requests.Session = field(repr=False)
    cache_key: str | None = field(default=None, repr=False)
    cache: TokenCache = field(default=TOKENS, repr=False)

    def headers(self) -> dict[str, str]:
        if not self.credentials.valid and not self._from_cache():
            self._mint()
        return {"Authorization": f"Bearer {self.credentials.token}"}

    def refresh(self) -> None:
        """A new token, whatever the cache holds: the platform refused the one we sent."""
        if self.cache_key is not None:
            self.cache.drop(self.cache_key)
        self._mint()

    def _from_cache(self) -> bool:
        found = self.cache.get(self.cache_key) if self.cache_key is not None else None
        if found is None:
            return False
        self.credentials.token, self.credentials.expiry = found
        return self.credentials.valid

    def _mint(self) -> None:
        try:
            self.credentials.refresh(google.auth.transport.requests.Request(self.session))
        except google.auth.exceptions.RefreshError as exc:
            # args[0] is "error: error_description" from the token endpoint; no secret in it.
            raise AuthenticationError(
                f"{self.label}: the token endpoint refused the credentials ({exc.args[0]}); "
                "re-authorise the source.") from None
        except google.auth.exceptions.TransportError:
            raise TransientError(f"{self.label}: the token endpoint could not be reached") from None
        token, expiry = self.credentials.token, self.credentials.expiry
        if self.cache_key is not None and token and expiry is not None:
            self.cache.put(self.cache_key, token, expiry)


@dataclass
class AppStoreToken:
    """An ES256 JWT for App Store Connect, minted from the .p8 key and re-minted before expiry."""

    issuer_id: str
    key_id: str
    private_key: str = field(repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)
    _token: str | None = field(default=None, init=False, repr=False)
    _expires: float = field(default=0.0, init=False, repr=False)

    def headers(self) -> dict[str, str]:
        if self._token is None or self.clock() > self._expires - 60:
            self.refresh()
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> None:
        now = int(self.clock())
        payload: dict[str, Any] = {"iss": self.issuer_id, "iat": now,
                                   "exp": now + APP_STORE_TOKEN_SECONDS, "aud": APP_STORE_AUDIENCE}
        try:
            self._token = jwt.encode(payload, self.private_key, algorithm="ES256",
                                     headers={"kid": self.key_id, "typ": "JWT"})
        except (ValueError, TypeError, jwt.PyJWTError):
            raise AuthenticationError(
                "App Store Connect: the private key is not a valid .p8 (EC P-256) key") from None
        self._expires = payload["exp"]
