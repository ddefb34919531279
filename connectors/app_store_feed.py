"""App Store reviews from Apple's public customer-review feed: no credentials, read-only.

The feed serves the 500 most recent reviews per storefront (10 pages of 50), without developer
responses, so replies are drafted here and copied into App Store Connect by hand.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

from .base import PostedReply, Review, parse_time
from .http import HttpConnector
from .paging import newer_than, newest_first
from .text import normalise_text

log = logging.getLogger(__name__)

LABEL = "App Store feed"
MAX_PAGES = 10


class AppStoreFeedConnector(HttpConnector):
    platform: ClassVar[str] = "app_store"
    label: ClassVar[str] = LABEL
    platform_label: ClassVar[str] = "App Store"
    reply_limit: ClassVar[int] = 5970
    answerable: ClassVar[bool] = False
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "title": "App Store public feed",
        "required": ["app_id"],
        "properties": {
            "app_id": {"type": "string", "pattern": "^[0-9]+$", "title": "Apple app ID"},
            "countries": {"type": "array", "minItems": 1, "default": ["us"],
                          "title": "Storefronts (two-letter country codes)",
                          "items": {"type": "string", "pattern": "^[a-z]{2}$"}},
            "base_url": {"type": "string", "default": "https://itunes.apple.com"},
        },
    }

    def __init__(self, settings: dict[str, Any], **options: Any):
        super().__init__(settings, **options)
        self.app_id = settings["app_id"]
        self.countries: list[str] = self.setting("countries")
        self.http = self._client("Apple refused the public feed; try again later.")

    def fetch(self, since: str | None = None) -> Iterator[Review]:
        yield from newest_first(newer_than(self._country_reviews(country), since)
                                for country in self.countries)

    def post_reply(self, review: Review, text: str) -> PostedReply:
        raise NotImplementedError(
            "The App Store public feed is read-only: copy the reply and post it in App Store "
            "Connect, or add an App Store Connect source to post from here.")

    def check(self) -> str:
        entries = self._entries(self.countries[0], 1)
        return f"OK: the {self.countries[0]} feed of app {self.app_id} lists {len(entries)} reviews"

    def _entries(self, country: str, page: int) -> list[dict[str, Any]]:
        url = (f"{self.base_url}/{country}/rss/customerreviews/page={page}/id={self.app_id}"
               "/sortby=mostrecent/json")
        entries = (self.http.get_json(url).get("feed") or {}).get("entry") or []
        # One entry arrives as an object, not a list; older feeds lead with an app entry.
        if isinstance(entries, dict):
            entries = [entries]
        return [entry for entry in entries if "im:rating" in entry]

    def _country_reviews(self, country: str) -> Iterator[Review]:
        for page in range(1, MAX_PAGES + 1):
            entries = self._entries(country, page)
            if not entries:
                return
            for entry in entries:
                review = _review(entry, country, self.app_id)
                if review is not None:
                    yield review


def _label(entry: dict[str, Any], *path: str) -> str:
    node: Any = entry
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    value = node.get("label") if isinstance(node, dict) else None
    return value if isinstance(value, str) else ""


def _review(entry: dict[str, Any], country: str, app_id: str) -> Review | None:
    """A Review from a feed entry; the feed's `updated` is the only time it gives."""
    rating = _label(entry, "im:rating")
    if rating not in {"1", "2", "3", "4", "5"}:
        log.warning("%s entry %r has rating %r; skipped", LABEL, _label(entry, "id"), rating)
        return None
    updated = parse_time(_label(entry, "updated"), "updated", required=True)
    link = entry.get("link")
    href = (link.get("attributes") or {}).get("href") if isinstance(link, dict) else None
    metadata: dict[str, Any] = {"country": country}
    for key, name in (("im:version", "app_version"), ("im:voteSum", "vote_sum"),
                      ("im:voteCount", "vote_count")):
        if _label(entry, key):
            metadata[name] = _label(entry, key)
    return Review(
        platform="app_store",
        external_id=_label(entry, "id"),
        rating=int(rating),
        created_at=updated,  # type: ignore[arg-type]
        updated_at=updated,
        source=f"{country}/{app_id}",
        author=normalise_text(_label(entry, "author", "name")),
        title=normalise_text(_label(entry, "title")),
        text=normalise_text(_label(entry, "content")),
        url=href if href and href.startswith("https://") else None,
        metadata=metadata,
    )
