"""Google Business Profile reviews through the My Business API v4.

A user's OAuth refresh token (scope `business.manage`) is exchanged for access tokens by
google-auth. Reviews are listed per location, newest update first; several locations are merged
into one newest-first stream. Replies are upserts (`PUT .../reply`) and pass Google's moderation
afterwards, so the read-back reports the moderation state when Google gives one.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

import google.oauth2.credentials

from .auth import GoogleAuth, credentials_key
from .base import ExistingReply, PostedReply, Review, parse_time
from .errors import PlatformRejected
from .http import HttpConnector
from .paging import newer_than, newest_first, token_pages
from .quota import MemoryQuota, QuotaCounter
from .rate_limits import per_minute
from .text import normalise_text

log = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/business.manage"
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
PAGE_SIZE = 50  # the documented maximum
LABEL = "Google Business Profile"
NOTIFICATION_TYPES = ("NEW_REVIEW", "UPDATED_REVIEW")
#: The Notifications API's own error codes, and what a person does about each.
NOTIFICATION_ERRORS = {
    "SHARES_PUBSUB_TOPIC_MESSAGE_ACROSS_VERSIONS": "The topic is still set through the "
    "deprecated v4 notifications; use another topic or clear the v4 setting first",
    "PUBLISH_PERMISSIONS_MISSING_FOR_PUBSUB_TOPIC": "Grant "
    "mybusiness-api-pubsub@system.gserviceaccount.com the Pub/Sub Publisher role on the topic",
    "INVALID_PUBSUB_TOPIC": "The topic must be projects/PROJECT/topics/TOPIC and exist",
}


class GoogleBusinessConnector(HttpConnector):
    platform: ClassVar[str] = "google_business"
    label: ClassVar[str] = LABEL
    platform_label: ClassVar[str] = "Google Business"
    reply_limit: ClassVar[int] = 4096
    reply_limit_unit: ClassVar[str] = "bytes"
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "title": "Google Business Profile",
        "required": ["client_id", "client_secret", "refresh_token", "locations"],
        "properties": {
            "client_id": {"type": "string", "minLength": 1, "title": "OAuth client ID"},
            "client_secret": {"type": "string", "minLength": 1, "title": "OAuth client secret",
                              "secret": True},
            "refresh_token": {"type": "string", "minLength": 1, "secret": True,
                              "title": "Refresh token (scope business.manage)"},
            "locations": {"type": "array", "minItems": 1, "title": "Locations",
                          "items": {"type": "string",
                                    "pattern": "^accounts/[^/]+/locations/[^/]+$"}},
            "base_url": {"type": "string", "default": "https://mybusiness.googleapis.com"},
            "token_url": {"type": "string", "default": "https://oauth2.googleapis.com/token"},
            "queries_per_minute": {
                "type": "integer", "minimum": 1, "default": 300,
                "title": "Queries per minute",
                "description": "Google's default quota per Business Profile API and Cloud "
                               "project; raise it only after Google raised yours."},
            "notifications_url": {"type": "string",
                                  "default": "https://mybusinessnotifications.googleapis.com"},
        },
    }

    def __init__(self, settings: dict[str, Any], *, quota: QuotaCounter | None = None,
                 **options: Any):
        super().__init__(settings, **options)
        self.quota: QuotaCounter = quota or MemoryQuota()
        credentials = google.oauth2.credentials.Credentials(
            token=None,
            refresh_token=settings["refresh_token"],
            client_id=settings["client_id"],
            client_secret=settings["client_secret"],
            token_uri=self.setting("token_url"),
            scopes=[SCOPE],
        )
        self.http = self._client(
            "The Google account needs the business.manage scope and manager access to the "
            "location; the location must be verified.",
            GoogleAuth(LABEL, credentials, self._session,
                       cache_key=credentials_key("oauth", self.setting("token_url"),
                                                 settings["client_id"],
                                                 settings["refresh_token"])))
        # The quota is per Cloud project, which the OAuth client belongs to.
        self.http.before_request = per_minute(
            self.quota, f"google_business:{settings['client_id']}:minute",
            self.setting("queries_per_minute"), LABEL)

    def fetch(self, since: str | None = None) -> Iterator[Review]:
        streams = [newer_than(self._location_reviews(location), since)
                   for location in self.settings["locations"]]
        yield from newest_first(streams)

    def post_reply(self, review: Review, text: str) -> PostedReply:
        self.check_reply(text)
        reply = self.http.request("PUT", self._url(f"{review.external_id}/reply"),
                                  json={"comment": text})
        return _posted(reply, review.external_id)

    def fetch_review(self, name: str) -> Review:
        """One review by resource name, as a Pub/Sub notification names it."""
        location = name.split("/reviews/", 1)[0]
        review = _review(self.http.get_json(self._url(name)), location)
        if review is None:
            raise PlatformRejected(f"{LABEL} review {name} has no star rating yet")
        return review

    def get_reply(self, review: Review) -> PostedReply | None:
        raw = self.http.get_json(self._url(review.external_id))
        reply = raw.get("reviewReply")
        return _posted(reply, review.external_id) if reply else None

    def set_notifications(self, topic: str | None,
                          types: tuple[str, ...] = NOTIFICATION_TYPES) -> list[dict[str, Any]]:
        """Send review notifications of every account of the source's locations to a Pub/Sub
        topic (None: stop sending), through the Notifications API v1; the settings Google
        now holds, one per account.

        https://developers.google.com/my-business/reference/notifications/rest/v1/NotificationSetting:
        one setting per account, written with `accounts.updateNotificationSetting` (PATCH with
        an updateMask). The v4 `accounts.updateNotifications` it replaces is deprecated.
        """
        settings = []
        for account in sorted({loc.split("/locations/", 1)[0]
                               for loc in self.settings["locations"]}):
            name = f"{account}/notificationSetting"
            body = {"name": name, "pubsubTopic": topic or "",
                    "notificationTypes": list(types) if topic else []}
            try:
                settings.append(self.http.request(
                    "PATCH", f"{self.setting('notifications_url').rstrip('/')}/v1/{name}",
                    params={"updateMask": "pubsubTopic,notificationTypes"}, json=body))
            except PlatformRejected as exc:
                hint = next((words for code, words in NOTIFICATION_ERRORS.items()
                             if code in str(exc)), "")
                raise PlatformRejected(f"{exc}{'. ' + hint if hint else ''}", status=exc.status,
                                       platform_message=exc.platform_message) from None
        return settings

    def check(self) -> str:
        location = self.settings["locations"][0]
        page = self.http.get_json(self._url(f"{location}/reviews"), params={"pageSize": 1})
        return (f"OK: {location} has {page.get('totalReviewCount', 0)} reviews "
                f"(average {page.get('averageRating', 'n/a')})")

    def _url(self, name: str) -> str:
        return f"{self.base_url}/v4/{name}"

    def _location_reviews(self, location: str) -> Iterator[Review]:
        def fetch_page(token: str | None) -> dict[str, Any]:
            return self.http.get_json(self._url(f"{location}/reviews"), params={
                "pageSize": PAGE_SIZE, "orderBy": "updateTime desc", "pageToken": token})

        for page in token_pages(fetch_page, lambda page: page.get("nextPageToken"),
                                f"{LABEL} {location}"):
            for raw in page.get("reviews") or ():
                review = _review(raw, location)
                if review is not None:
                    yield review


def _review(raw: dict[str, Any], location: str) -> Review | None:
    """A Review from a v4 `Review`; unknown fields are ignored, rating-only reviews kept."""
    rating = STARS.get(raw.get("starRating", ""))
    if rating is None:
        log.warning("%s review %r has no usable starRating (%r); skipped", LABEL,
                    raw.get("name"), raw.get("starRating"))
        return None
    reviewer = raw.get("reviewer") or {}
    anonymous = bool(reviewer.get("isAnonymous"))
    metadata: dict[str, Any] = {"location": location, "review_id": raw.get("reviewId"),
                                "anonymous": anonymous}
    if raw.get("reviewMediaItems"):
        metadata["media_items"] = len(raw["reviewMediaItems"])
    reply = raw.get("reviewReply")
    existing = None
    if reply:
        existing = ExistingReply(normalise_text(reply.get("comment")),
                                 parse_time(reply.get("updateTime"), "reviewReply.updateTime"))
        metadata["reply_state"] = _reply_state(reply)
        if _violation(reply):
            metadata["reply_policy_violation"] = _violation(reply)
    return Review(
        platform="google_business",
        external_id=raw["name"],
        rating=rating,
        created_at=parse_time(raw.get("createTime"), "createTime", required=True),  # type: ignore[arg-type]
        updated_at=parse_time(raw.get("updateTime"), "updateTime"),
        source=location,
        author="" if anonymous else normalise_text(reviewer.get("displayName")),
        text=normalise_text(raw.get("comment")),
        reply=existing,
        metadata=metadata,
    )


def _reply_state(reply: dict[str, Any]) -> str:
    """Google's moderation verdict on a reply (pending, approved, rejected), lower-cased.

    https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews
    lists the enums `State` (PENDING, REJECTED, APPROVED) and `PolicyViolation` on ReviewReply;
    https://developers.google.com/my-business/content/latest-updates dates them 2026-04-01
    (ReviewReplyState) and 2026-07-01 (PolicyViolation). The reference names the types; the
    JSON keys follow Google's rule of naming a field after its type in lowerCamelCase (`state`,
    `policyViolation`), and `reviewReplyState`, the name in the update notes, is read as well.
    A reply with neither is from before moderation was reported and is public as it stands.
    """
    for key in ("state", "reviewReplyState"):
        state = reply.get(key)
        if isinstance(state, str) and state and state != "STATE_UNSPECIFIED":
            return state.lower()
    return "rejected" if _violation(reply) else "published"


def _violation(reply: dict[str, Any]) -> str | None:
    """Google's PolicyViolation for a rejected reply (REPETITIVE, PERSONAL_INFO, ...)."""
    value = reply.get("policyViolation")
    if isinstance(value, str) and value and value != "POLICY_VIOLATION_UNSPECIFIED":
        return value
    return None


def _posted(reply: dict[str, Any], name: str) -> PostedReply:
    return PostedReply(
        text=normalise_text(reply.get("comment")),
        updated_at=parse_time(reply.get("updateTime"), "reviewReply.updateTime"),
        state=_reply_state(reply),
        platform_id=f"{name}/reply",
        reason=_violation(reply),
    )
