"""A connector that needs no account: reviews from a JSON Lines file, replies to a local file.

It backs `makeright demo` and the browser test, and behaves like the real platforms where it
matters to the poster: a reply is an upsert, `get_reply` reads back what is public (the last
reply written, else the reply the review arrived with), and the platform's length limit is
enforced by the "platform" itself.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from .base import Connector, PostedReply, Review, format_time, parse_time, reply_length
from .errors import ReplyTooLong


class DemoConnector(Connector):
    platform: ClassVar[str] = "other"
    answerable: ClassVar[bool] = True
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["reviews", "replies"],
        "properties": {
            "reviews": {"type": "string", "description": "JSON Lines file of reviews to serve"},
            "replies": {"type": "string", "description": "JSON Lines file replies are appended to"},
            "rebase": {"type": "boolean", "default": True,
                       "description": "Shift review times so the newest is an hour old"},
        },
    }

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        self.reviews_path = Path(settings["reviews"])
        self.replies_path = Path(settings["replies"])
        self.rebase = bool(settings.get("rebase", True))

    def _load(self) -> list[Review]:
        with self.reviews_path.open(encoding="utf-8") as stream:
            reviews = [Review.from_json(json.loads(line)) for line in stream if line.strip()]
        if self.rebase and reviews:
            # A demo should look like a live queue whenever it is run: keep the spacing of the
            # bundled reviews but move them so the newest arrived an hour ago.
            newest = max(r.created_at for r in reviews)
            shift = datetime.now(UTC) - timedelta(hours=1) - newest
            for review in reviews:
                review.created_at += shift
                if review.updated_at is not None:
                    review.updated_at += shift
        return reviews

    def fetch(self, since: str | None = None) -> Iterator[Review]:
        cursor = parse_time(since, "since") if since else None
        for review in sorted(self._load(), key=lambda r: r.updated_at or r.created_at,
                             reverse=True):
            if cursor is not None and (review.updated_at or review.created_at) <= cursor:
                return
            yield review

    def post_reply(self, review: Review, text: str) -> PostedReply:
        used, limit, unit = reply_length(text, review.platform)
        if used > limit:
            raise ReplyTooLong(f"The reply is {used} {unit}; {review.platform} allows {limit}.",
                               status=400, platform_message=f"Reply exceeds {limit} {unit}.")
        now = datetime.now(UTC)
        line = {"platform": review.platform, "external_id": review.external_id, "text": text,
                "updated_at": format_time(now)}
        self.replies_path.parent.mkdir(parents=True, exist_ok=True)
        with self.replies_path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(line, ensure_ascii=False) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        return PostedReply(text=text, updated_at=now, state="published",
                           platform_id=f"demo:{review.platform}:{review.external_id}")

    def get_reply(self, review: Review) -> PostedReply | None:
        found: PostedReply | None = None
        if self.replies_path.exists():
            with self.replies_path.open(encoding="utf-8") as stream:
                for raw in stream:
                    if not raw.strip():
                        continue
                    item = json.loads(raw)
                    if (item["platform"], item["external_id"]) == (review.platform,
                                                                   review.external_id):
                        found = PostedReply(text=item["text"],
                                            updated_at=parse_time(item["updated_at"], "updated_at"),
                                            state="published")
        if found is None and review.reply is not None:
            return PostedReply(text=review.reply.text, updated_at=review.reply.updated_at)
        return found
