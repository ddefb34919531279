"""Credentials that sign requests: Google OAuth access tokens and App Store Connect JWTs.

Both mint short-lived tokens in memory and never write them anywhere; reprs hide every secret.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import google.auth.exceptions
import google.auth.transport.requests
import jwt
import requests
from google.auth.credentials import Credentials

from .errors import AuthenticationError, TransientError

APP_STORE_AUDIENCE = "appstoreconnect-v1"
#: Apple rejects tokens that expire more than 20 minutes ahead; stay well inside that.
APP_STORE_TOKEN_SECONDS = 15 * 60


@dataclass
class GoogleAuth:
    """Bearer tokens from a google-auth credentials object, refreshed on expiry or on demand."""

    label: str
    credentials: Credentials = field(repr=False)
    session: requests.Session = field(repr=False)

    def headers(self) -> dict[str, str]:
        if not self.credentials.valid:
            self.refresh()
        return {"Authorization": f"Bearer {self.credentials.token}"}

    def refresh(self) -> None:
        try:
            self.credentials.refresh(google.auth.transport.requests.Request(self.session))
        except google.auth.exceptions.RefreshError as exc:
            # args[0] is "error: error_description" from the token endpoint; no secret in it.
            raise AuthenticationError(
                f"{self.label}: the token endpoint refused the credentials ({exc.args[0]}); "
                "re-authorise the source.") from None
        except google.auth.exceptions.TransportError:
            raise TransientError(f"{self.label}: the token endpoint could not be reached") from None


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
