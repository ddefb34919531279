"""Google Play reviews through the Android Publisher API v3.

A service account (with the Play Console permission "Reply to reviews") signs a JWT grant via
google-auth. The API returns only reviews with text, created or edited in about the last week,
most recently modified first. Each app may make 200 review reads an hour and 2,000 replies a
day; a `QuotaCounter` refuses the call that would go over, before Google does.
"""
from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import google.auth.exceptions
import google.oauth2.service_account

from .auth import GoogleAuth, credentials_key
from .base import ExistingReply, PostedReply, Review
from .errors import QuotaExhausted
from .http import HttpConnector
from .paging import newer_than, token_pages
from .quota import MemoryQuota, QuotaCounter
from .rate_limits import per_minute
from .text import normalise_text

log = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
LABEL = "Google Play"
HOUR, DAY = 3600, 86400
_USER_METADATA = {
    "reviewerLanguage": "reviewer_language",
    "appVersionName": "app_version_name",
    "appVersionCode": "app_version_code",
    "device": "device",
    "androidOsVersion": "android_os_version",
    "thumbsUpCount": "thumbs_up",
    "thumbsDownCount": "thumbs_down",
    "deviceMetadata": "device_metadata",
    "originalText": "original_text",
}


class GooglePlayConnector(HttpConnector):
    platform: ClassVar[str] = "google_play"
    label: ClassVar[str] = LABEL
    platform_label: ClassVar[str] = "Google Play"
    reply_limit: ClassVar[int] = 350
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "title": "Google Play",
        "required": ["package_name", "service_account_json"],
        "properties": {
            "package_name": {"type": "string", "title": "Package name",
                             "pattern": r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$"},
            "service_account_json": {
                "type": ["string", "object"], "secret": True,
                "title": "Service-account key (JSON)",
                "description": "The service account needs the Play Console permission "
                               "'Reply to reviews' for this app."},
            "base_url": {"type": "string", "default": "https://androidpublisher.googleapis.com"},
            "token_url": {"type": "string",
                          "description": "Overrides the key file's token_uri."},
            "page_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
            "read_quota_per_hour": {"type": "integer", "minimum": 1, "default": 200},
            "reply_quota_per_day": {"type": "integer", "minimum": 1, "default": 2000},
            "queries_per_minute": {
                "type": "integer", "minimum": 1, "default": 3000,
                "description": "Google's per-minute bucket for publishing, monetization and "
                               "reply-to-reviews calls, per Cloud project."},
        },
    }

    def __init__(self, settings: dict[str, Any], *, quota: QuotaCounter | None = None,
                 **options: Any):
        super().__init__(settings, **options)
        self.package = settings["package_name"]
        self.page_size = self.setting("page_size")
        self.quota: QuotaCounter = quota or MemoryQuota()
        credentials, key = _service_account(settings)
        self.http = self._client(
            f"The service account needs the Play Console permission 'Reply to reviews' for "
            f"{self.package} (Users and permissions).",
            GoogleAuth(LABEL, credentials, self._session, cache_key=key))
        # The bucket is per Cloud project, which the service account belongs to.
        project = str(credentials.project_id or credentials.service_account_email)
        self.http.before_request = per_minute(self.quota, f"google_play:{project}:minute",
                                              self.setting("queries_per_minute"), LABEL)

    def fetch(self, since: str | None = None) -> Iterator[Review]:
        yield from newer_than(self._reviews(), since)

    def post_reply(self, review: Review, text: str) -> PostedReply:
        self.check_reply(text)
        self._take("reply")
        result = self.http.request("POST", f"{self._review_url(review)}:reply",
                                   json={"replyText": text}).get("result") or {}
        return PostedReply(text=normalise_text(result.get("replyText")),
                           updated_at=_timestamp(result.get("lastEdited")),
                           platform_id=review.external_id)

    def get_reply(self, review: Review) -> PostedReply | None:
        self._take("read")
        raw = self.http.get_json(self._review_url(review))
        developer = _comment(raw, "developerComment")
        if developer is None:
            return None
        return PostedReply(text=normalise_text(developer.get("text")),
                           updated_at=_timestamp(developer.get("lastModified")),
                           platform_id=review.external_id)

    def check(self) -> str:
        self._take("read")
        self.http.get_json(self._reviews_url(), params={"maxResults": 1})
        return (f"OK: reviews of {self.package} are readable (a reply also needs the "
                "'Reply to reviews' permission, which only a reply can prove)")

    def _reviews_url(self) -> str:
        return f"{self.base_url}/androidpublisher/v3/applications/{self.package}/reviews"

    def _review_url(self, review: Review) -> str:
        return f"{self._reviews_url()}/{quote(review.external_id, safe='')}"

    def _take(self, kind: str) -> None:
        """Count one call against the app's quota: reads per hour, replies per day.

        One logical call counts once; the request path's retries are not counted, so set the
        limits a little below Google's where retries are frequent.
        """
        if kind == "read":
            limit, window, per = self.setting("read_quota_per_hour"), HOUR, "hour"
        else:
            limit, window, per = self.setting("reply_quota_per_day"), DAY, "day"
        wait = self.quota.take(f"google_play:{self.package}:{kind}", limit, window)
        if wait > 0:
            raise QuotaExhausted(
                f"{LABEL}: the {kind} quota for {self.package} ({limit} per {per}) is used up; "
                f"the next {kind} is possible in {math.ceil(wait / 60)} min", retry_after=wait)

    def _reviews(self) -> Iterator[Review]:
        def fetch_page(token: str | None) -> dict[str, Any]:
            self._take("read")
            return self.http.get_json(self._reviews_url(),
                                      params={"maxResults": self.page_size, "token": token})

        def next_token(page: dict[str, Any]) -> str | None:
            return (page.get("tokenPagination") or {}).get("nextPageToken")

        for page in token_pages(fetch_page, next_token, f"{LABEL} {self.package}"):
            for raw in page.get("reviews") or ():
                review = _review(raw, self.package)
                if review is not None:
                    yield review


def _service_account(settings: dict[str, Any]
                     ) -> tuple[google.oauth2.service_account.Credentials, str]:
    """Credentials from the key file, and the key their access tokens are cached under;
    `token_url` replaces the file's token_uri when given."""
    info = settings["service_account_json"]
    try:
        if isinstance(info, str):
            info = json.loads(info)
        if settings.get("token_url"):
            info = {**info, "token_uri": settings["token_url"]}
        credentials = google.oauth2.service_account.Credentials.from_service_account_info(
            info, scopes=[SCOPE])
        key = credentials_key("service_account", str(info.get("token_uri")),
                              str(info.get("client_email")), str(info.get("private_key_id")),
                              str(info.get("private_key")), SCOPE)
        return credentials, key
    except (ValueError, KeyError, TypeError, google.auth.exceptions.GoogleAuthError) as exc:
        raise ValueError(f"{LABEL} settings: service_account_json: is not a usable "
                         f"service-account key file ({type(exc).__name__})") from None


def _comment(raw: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c[kind] for c in raw.get("comments") or () if c.get(kind)), None)


def _timestamp(value: dict[str, Any] | None) -> datetime | None:
    """A protobuf Timestamp; `seconds` arrives as a JSON string (int64)."""
    if not value or value.get("seconds") is None:
        return None
    moment = datetime.fromtimestamp(int(value["seconds"]), tz=UTC)
    return moment + timedelta(microseconds=int(value.get("nanos") or 0) // 1000)


def _review(raw: dict[str, Any], package: str) -> Review | None:
    """A Review from a v3 `Review`.

    Play has no creation time, only the last modification, so it is both created_at and
    updated_at. `reviewerLanguage` is the device's language, not the text's, so it stays in
    metadata and language detection decides `Review.language`.
    """
    user = _comment(raw, "userComment")
    rating = (user or {}).get("starRating")
    modified = _timestamp((user or {}).get("lastModified"))
    if user is None or rating not in (1, 2, 3, 4, 5) or modified is None:
        log.warning("%s review %r has no usable user comment; skipped", LABEL, raw.get("reviewId"))
        return None
    title, tab, body = (user.get("text") or "").partition("\t")
    if not tab:
        title, body = "", title
    developer = _comment(raw, "developerComment")
    reply = None
    if developer is not None:
        reply = ExistingReply(normalise_text(developer.get("text")),
                              _timestamp(developer.get("lastModified")))
    metadata = {key: user[field] for field, key in _USER_METADATA.items()
                if user.get(field) not in (None, "")}
    return Review(
        platform="google_play",
        external_id=raw["reviewId"],
        rating=rating,
        created_at=modified,
        updated_at=modified,
        source=package,
        author=normalise_text(raw.get("authorName")),
        title=normalise_text(title),
        text=normalise_text(body),
        reply=reply,
        metadata=metadata,
    )
