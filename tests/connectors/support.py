"""Throwaway credentials, fixture loading and connector factories shared by the HTTP tests."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connectors.app_store import AppStoreConnector
from connectors.app_store_feed import AppStoreFeedConnector
from connectors.base import Connector
from connectors.google_business import GoogleBusinessConnector
from connectors.google_play import GooglePlayConnector
from connectors.quota import QuotaCounter

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN_URL = "https://oauth2.test/token"
PLAY_BASE = "https://androidpublisher.googleapis.com/androidpublisher/v3/applications/com.example.budget"
PLAY_REVIEWS = f"{PLAY_BASE}/reviews"
GBP_BASE = "https://mybusiness.googleapis.com/v4"
GBP_LOCATION = "accounts/111/locations/222"
ASC_BASE = "https://api.appstoreconnect.apple.com"
ASC_REVIEWS = f"{ASC_BASE}/v1/apps/1234567890/customerReviews"
FEED_BASE = "https://itunes.apple.com"

REFRESH_TOKEN = "1//0refresh-token-never-logged"
CLIENT_SECRET = "GOCSPX-client-secret-never-logged"
ACCESS_TOKEN = "ya29.access-token-never-logged"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def feed_url(country: str, page: int, app_id: str = "1234567890") -> str:
    return (f"{FEED_BASE}/{country}/rss/customerreviews/page={page}/id={app_id}"
            "/sortby=mostrecent/json")


@cache
def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@cache
def ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def service_account_info() -> dict[str, str]:
    return {
        "type": "service_account",
        "project_id": "makeright-test",
        "private_key_id": "0123456789abcdef",
        "private_key": rsa_pem(),
        "client_email": "replies@makeright-test.iam.gserviceaccount.com",
        "client_id": "1000000000001",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@dataclass
class Sleeps:
    """Stands in for time.sleep: records every wait, waits for none."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def play(sleep: Callable[[float], None], quota: QuotaCounter | None = None,
         **settings: Any) -> GooglePlayConnector:
    return GooglePlayConnector({"package_name": "com.example.budget",
                                "service_account_json": json.dumps(service_account_info()),
                                "token_url": TOKEN_URL, **settings}, sleep=sleep, quota=quota)


def business(sleep: Callable[[float], None], quota: QuotaCounter | None = None,
             **settings: Any) -> GoogleBusinessConnector:
    return GoogleBusinessConnector({"client_id": "client-1.apps.googleusercontent.com",
                                    "client_secret": CLIENT_SECRET,
                                    "refresh_token": REFRESH_TOKEN,
                                    "locations": [GBP_LOCATION],
                                    "token_url": TOKEN_URL, **settings}, sleep=sleep,
                                   quota=quota)


def app_store(sleep: Callable[[float], None], **settings: Any) -> AppStoreConnector:
    return AppStoreConnector({"app_id": "1234567890",
                              "issuer_id": "69a6de70-03db-47e3-e053-5b8c7c11a4d1",
                              "key_id": "2X9R4HXF34", "private_key": ec_pem(), **settings},
                             sleep=sleep)


def feed(sleep: Callable[[float], None], **settings: Any) -> AppStoreFeedConnector:
    return AppStoreFeedConnector({"app_id": "1234567890", **settings}, sleep=sleep)


def token_response(mocked, token: str = ACCESS_TOKEN):
    """Register the OAuth token endpoint; returns the registered response for call counting."""
    return mocked.post(TOKEN_URL, json={"access_token": token, "expires_in": 3600,
                                        "token_type": "Bearer"})


def token_form(token) -> dict[str, list[str]]:
    """The form the first call to the token endpoint sent."""
    body = token.calls[0].request.body
    return parse_qs(body.decode() if isinstance(body, bytes) else body)


@dataclass(frozen=True)
class Case:
    """One connector and the first request its `fetch` makes, for behaviour shared by all."""

    name: str
    make: Callable[..., Connector]
    list_url: str
    page: str
    needs_token: bool
    permission_words: str
    last_page: tuple[str, str] | None = None


CASES = [
    Case("google_play", play, PLAY_REVIEWS, "play_reviews_page2.json", True, "Reply to reviews"),
    Case("google_business", business, f"{GBP_BASE}/{GBP_LOCATION}/reviews",
         "gbp_reviews_page2.json", True, "business.manage"),
    Case("app_store", app_store, ASC_REVIEWS, "asc_reviews_page2.json", False,
         "Customer Support or Admin role"),
    Case("app_store_feed", feed, feed_url("us", 1), "feed_single_entry.json", False,
         "try again later", last_page=(feed_url("us", 2), "feed_empty.json")),
]
