"""App Store customer reviews through the App Store Connect API (JSON:API).

Requests carry an ES256 JWT minted in memory from the team key (.p8). Reviews are listed newest
first with their developer responses included; pages are followed through `links.next` exactly
as Apple wrote them. Each review has at most one response: posting creates or overwrites it,
and it is published after a delay, so the read-back reports PENDING_PUBLISH or PUBLISHED.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote

from .auth import AppStoreToken
from .base import ExistingReply, PostedReply, Review, parse_time
from .errors import NotFound
from .http import HttpConnector
from .paging import newer_than, token_pages
from .rate_limits import BUDGETS
from .text import normalise_text

log = logging.getLogger(__name__)

LABEL = "App Store Connect"
PAGE_SIZE = 200  # the documented maximum


class AppStoreConnector(HttpConnector):
    platform: ClassVar[str] = "app_store"
    label: ClassVar[str] = LABEL
    platform_label: ClassVar[str] = "App Store"
    reply_limit: ClassVar[int] = 5970
    #: The 201 answer to a POST is the response itself, `state` included (PENDING_PUBLISH).
    write_shows_state: ClassVar[bool] = True
    # Apple answers 429 with budget left in X-Rate-Limit when requests run in parallel
    # (developer forums, thread 731014): one post at a time per process.
    parallel_writes: ClassVar[int | None] = 1
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "title": "App Store Connect",
        "required": ["app_id", "issuer_id", "key_id", "private_key"],
        "properties": {
            "app_id": {"type": "string", "pattern": "^[0-9]+$", "title": "Apple app ID"},
            "issuer_id": {"type": "string", "minLength": 1, "title": "Issuer ID"},
            "key_id": {"type": "string", "minLength": 1, "title": "Key ID"},
            "private_key": {"type": "string", "minLength": 1, "secret": True,
                            "title": "Private key (.p8 contents)",
                            "description": "A team key with the Customer Support or Admin role."},
            "base_url": {"type": "string", "default": "https://api.appstoreconnect.apple.com"},
            "rate_limit_reserve": {
                "type": "integer", "minimum": 0, "default": 10,
                "title": "Requests kept in reserve",
                "description": "Calls stop when X-Rate-Limit shows this few left in the hour; "
                               "parallel requests can be refused before it reaches 0."},
        },
    }

    def __init__(self, settings: dict[str, Any], **options: Any):
        super().__init__(settings, **options)
        self.app_id = settings["app_id"]
        self.http = self._client(
            "The API key needs the Customer Support or Admin role (Users and Access > "
            "Integrations).",
            AppStoreToken(settings["issuer_id"], settings["key_id"], settings["private_key"]))
        # Apple counts per API key and says how much is left on every response.
        key, reserve = f"app_store:{settings['key_id']}", self.setting("rate_limit_reserve")
        self.http.before_request = lambda: BUDGETS.check(key, reserve, LABEL)
        self.http.after_response = lambda response: BUDGETS.record(
            key, response.headers.get("X-Rate-Limit"))

    def fetch(self, since: str | None = None) -> Iterator[Review]:
        yield from newer_than(self._reviews(), since)

    def post_reply(self, review: Review, text: str) -> PostedReply:
        self.check_reply(text)
        body = {"data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": text},
            "relationships": {"review": {"data": {"type": "customerReviews",
                                                  "id": review.external_id}}},
        }}
        data = self.http.request("POST", f"{self.base_url}/v1/customerReviewResponses",
                                 json=body)["data"]
        return _posted(data)

    def get_reply(self, review: Review) -> PostedReply | None:
        review_url = f"{self.base_url}/v1/customerReviews/{quote(review.external_id, safe='')}"
        try:
            data = self.http.get_json(f"{review_url}/response").get("data")
        except NotFound:
            # Apple answers 404 both for a missing review and for a review without a response;
            # only the review itself tells the two apart.
            self.http.get_json(review_url)
            return None
        return _posted(data) if data else None

    def check(self) -> str:
        page = self.http.get_json(self._list_url(), params={"limit": 1})
        total = ((page.get("meta") or {}).get("paging") or {}).get("total")
        return f"OK: app {self.app_id} is readable ({total if total is not None else '?'} reviews)"

    def _list_url(self) -> str:
        return f"{self.base_url}/v1/apps/{self.app_id}/customerReviews"

    def _reviews(self) -> Iterator[Review]:
        def fetch_page(next_url: str | None) -> dict[str, Any]:
            if next_url is None:
                return self.http.get_json(self._list_url(), params={
                    "sort": "-createdDate", "include": "response", "limit": PAGE_SIZE})
            return self.http.get_json(next_url)

        for page in token_pages(fetch_page, lambda page: (page.get("links") or {}).get("next"),
                                f"{LABEL} app {self.app_id}"):
            responses = {item["id"]: item for item in page.get("included") or ()
                         if item.get("type") == "customerReviewResponses"}
            for raw in page.get("data") or ():
                review = _review(raw, responses, self.app_id)
                if review is not None:
                    yield review


def _review(raw: dict[str, Any], responses: dict[str, dict[str, Any]],
            app_id: str) -> Review | None:
    attributes = raw.get("attributes") or {}
    if attributes.get("rating") not in (1, 2, 3, 4, 5):
        log.warning("%s review %r has no usable rating; skipped", LABEL, raw.get("id"))
        return None
    linked = ((raw.get("relationships") or {}).get("response") or {}).get("data") or {}
    response = responses.get(linked.get("id", ""))
    metadata: dict[str, Any] = {}
    if attributes.get("territory"):
        metadata["territory"] = attributes["territory"]
    reply = None
    if response is not None:
        reply_attributes = response.get("attributes") or {}
        reply = ExistingReply(normalise_text(reply_attributes.get("responseBody")),
                              parse_time(reply_attributes.get("lastModifiedDate"),
                                         "response.lastModifiedDate"))
        metadata["response_id"] = response["id"]
        if reply_attributes.get("state"):
            metadata["reply_state"] = reply_attributes["state"].lower()
    return Review(
        platform="app_store",
        external_id=raw["id"],
        rating=attributes["rating"],
        created_at=parse_time(attributes.get("createdDate"), "createdDate", required=True),  # type: ignore[arg-type]
        source=app_id,
        author=normalise_text(attributes.get("reviewerNickname")),
        title=normalise_text(attributes.get("title")),
        text=normalise_text(attributes.get("body")),
        reply=reply,
        metadata=metadata,
    )


def _posted(data: dict[str, Any]) -> PostedReply:
    attributes = data.get("attributes") or {}
    return PostedReply(
        text=normalise_text(attributes.get("responseBody")),
        updated_at=parse_time(attributes.get("lastModifiedDate"), "lastModifiedDate"),
        state=(attributes.get("state") or "pending_publish").lower(),
        platform_id=data.get("id"),
    )
