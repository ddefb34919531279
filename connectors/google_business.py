"""Google Business Profile reviews through the My Business API v4.

A user's OAuth refresh token (scope `business.manage`) is exchanged for access tokens by
google-auth. Reviews are listed per location, newest update first; several locations are merged
into one newest-first stream. Replies are upserts (`PUT .../reply`) and pass Google's moderation
afterwards, so the read-back reports the moderation state when Google gives one.
"""
from __future__ import annotations

import logging
from typing import Any, ClassVar, Iterator

import google.oauth2.credentials

from .auth import GoogleAuth, credentials_key
from .base import ExistingReply, PostedReply, Review, parse_time
from .errors import PlatformRejected
from .http import HttpConnector
from .paging import newer_than, newest_first, token_pages
from .text import normalise_text

log = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/business.manage"
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
PAGE_SIZE = 50  # the documented maximum
LABEL = "Google Business Profile"


class GoogleBusinessConnector(HttpConnector):
    platform: ClassVar[str] = "google_business"
    label: ClassVar[str] = LABEL
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
        },
    }

    def __init__(self, settings: dict[str, Any], **options: Any):
        super().__init__(settings, **options)
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
