"""The platform-neutral review, its JSON form, and the interface every connector implements.

The JSON form is one contract used three ways: the webhook body, a line of a JSONL import file,
and what connectors produce. Validation therefore names the field in every message, so an
integrator or a person fixing a file knows exactly what to change.
"""
from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar, Iterator

from .errors import PlatformRejected, ReplyTooLong
from .settings import secret_fields
from .text import normalise_text

PLATFORMS = ("google_business", "google_play", "app_store", "other")

# Reply limits are platform facts, so they live beside the review format rather than in any
# one connector: the guardrails need them for drafts from any source.
REPLY_LIMITS: dict[str, tuple[int, str]] = {
    "google_business": (4096, "bytes"),
    "google_play": (350, "chars"),
    "app_store": (5970, "chars"),
    "other": (4096, "chars"),
}

_FIELDS = (
    "platform", "external_id", "source", "author", "rating", "title", "text", "language",
    "created_at", "updated_at", "reply", "url", "metadata",
)
MAX_TEXT_CHARS = 20_000


def reply_length(text: str, platform: str) -> tuple[int, int, str]:
    """(used, limit, unit) for a reply on a platform; Google Business counts UTF-8 bytes."""
    limit, unit = REPLY_LIMITS.get(platform, REPLY_LIMITS["other"])
    used = len(text.encode("utf-8")) if unit == "bytes" else len(text)
    return used, limit, unit


class ReviewError(ValueError):
    """A review that does not meet the format; `field` names the offending field."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def parse_time(value: Any, field_name: str, required: bool = False) -> datetime | None:
    """Parse an RFC 3339 timestamp into an aware UTC datetime."""
    if value is None or value == "":
        if required:
            raise ReviewError(field_name, "is required (RFC 3339 timestamp)")
        return None
    if not isinstance(value, str):
        raise ReviewError(field_name, "must be an RFC 3339 timestamp string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Google sends up to nine fractional digits; Python accepts at most six.
    if "." in text:
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        tail = tail[:min(digits, 6)] + tail[digits:]
        text = f"{head}.{tail}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ReviewError(field_name, f"{value!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None or "T" not in text.upper():
        raise ReviewError(field_name, f"{value!r} needs a date, a time and a UTC offset")
    return parsed.astimezone(timezone.utc)


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ExistingReply:
    """A reply already public on the platform (ours or someone else's)."""

    text: str
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PostedReply:
    """What a platform reports about the reply on a review after we wrote or read it.

    `state` is the platform's own word where it has one (App Store PENDING_PUBLISH/PUBLISHED,
    Google moderation states), lower-cased; "published" where the platform has no such notion.
    """

    text: str
    updated_at: datetime | None = None
    state: str = "published"
    platform_id: str | None = None


@dataclass
class Review:
    platform: str
    external_id: str
    rating: int
    created_at: datetime
    source: str = ""
    author: str = ""
    title: str = ""
    text: str = ""
    language: str | None = None
    updated_at: datetime | None = None
    reply: ExistingReply | None = None
    url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Identifies what the customer said; a change means the customer edited the review."""
        blob = json.dumps([self.rating, self.title, self.text], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @property
    def first_name(self) -> str:
        """The name to greet: the first word of a real display name, else empty."""
        name = self.author.strip()
        if not name or name.lower() in {"anonymous", "a google user", "google user", "unknown"}:
            return ""
        first = name.split()[0].strip(".,")
        if len(first) < 2 or not first.isalpha():
            return ""
        return first[0].upper() + first[1:]

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}".strip() if self.title else self.text

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "external_id": self.external_id,
            "source": self.source,
            "author": self.author,
            "rating": self.rating,
            "title": self.title,
            "text": self.text,
            "language": self.language,
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
            "reply": None if self.reply is None else {
                "text": self.reply.text, "updated_at": format_time(self.reply.updated_at)},
            "url": self.url,
            "metadata": self.metadata,
        }

    @classmethod
    def from_json(cls, data: Any) -> "Review":
        """Validate and normalise one review object; raise ReviewError naming the field."""
        if not isinstance(data, dict):
            raise ReviewError("review", "must be a JSON object")
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ReviewError(unknown[0], "is not a review field")
        platform = data.get("platform", "other")
        if platform not in PLATFORMS:
            raise ReviewError("platform", f"must be one of {', '.join(PLATFORMS)}")
        external_id = data.get("external_id")
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str) or not external_id.strip():
            raise ReviewError("external_id", "is required (a non-empty string)")
        if len(external_id) > 300:
            raise ReviewError("external_id", "is longer than 300 characters")
        rating = data.get("rating")
        if rating is None:
            raise ReviewError("rating", "is required (an integer from 1 to 5)")
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ReviewError("rating", f"must be an integer from 1 to 5, got {rating!r}")
        created_at = parse_time(data.get("created_at"), "created_at", required=True)
        updated_at = parse_time(data.get("updated_at"), "updated_at")
        strings = {name: _string(data, name) for name in ("source", "author", "title", "text")}
        language = _string(data, "language") or None
        if language is not None and not (2 <= len(language) <= 35):
            raise ReviewError("language", "must be a language tag such as 'en' or 'pt-BR'")
        url = _string(data, "url") or None
        if url is not None and not url.startswith(("https://", "http://")):
            raise ReviewError("url", "must be an http(s) URL")
        metadata = data.get("metadata")
        metadata = {} if metadata is None else metadata
        if not isinstance(metadata, dict):
            raise ReviewError("metadata", "must be a JSON object")
        reply = data.get("reply")
        existing = None
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(reply.get("text"), str):
                raise ReviewError("reply", "must be null or an object with a 'text' string")
            extra = sorted(set(reply) - {"text", "updated_at"})
            if extra:
                raise ReviewError(f"reply.{extra[0]}", "is not a reply field")
            existing = ExistingReply(normalise_text(reply["text"]),
                                     parse_time(reply.get("updated_at"), "reply.updated_at"))
        text = normalise_text(strings["text"])
        if len(text) > MAX_TEXT_CHARS:
            raise ReviewError("text", f"is longer than {MAX_TEXT_CHARS} characters")
        return cls(
            platform=platform,
            external_id=external_id.strip(),
            rating=rating,
            created_at=created_at,  # type: ignore[arg-type]
            source=strings["source"].strip(),
            author=normalise_text(strings["author"]),
            title=normalise_text(strings["title"]),
            text=text,
            language=language.lower() if language else None,
            updated_at=updated_at,
            reply=existing,
            url=url,
            metadata=metadata,
        )


def _string(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ReviewError(name, "must be a string")
    return value


class Connector(ABC):
    """One review platform. Subclasses are registered under the `makeright.connectors` entry point.

    Connectors never import `plugin`: they turn platform payloads into `Review`s and replies into
    platform calls, and report failures with the typed errors of `connectors.errors`.
    """

    platform: ClassVar[str] = "other"
    #: Can replies be posted through this connector? Read-only feeds say False.
    answerable: ClassVar[bool] = True
    #: JSON Schema of the settings a source of this kind needs; secrets are marked "secret": true.
    settings_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings

    def __repr__(self) -> str:
        """Settings with every field the schema marks secret masked: reprs end up in logs."""
        secret = secret_fields(self.settings_schema)
        shown = ", ".join(f"{key}={'***' if key in secret else repr(value)}"
                          for key, value in sorted(self.settings.items()))
        return f"{type(self).__name__}({shown})"

    @property
    def reply_limit(self) -> int:
        return REPLY_LIMITS[self.platform][0]

    def check_reply(self, text: str) -> None:
        """Refuse an empty or over-long reply before any request is made (or quota spent)."""
        if not text.strip():
            raise PlatformRejected(f"{self.platform}: the reply is empty")
        used, limit, unit = reply_length(text, self.platform)
        if used > limit:
            raise ReplyTooLong(f"{self.platform}: the reply is {used} {unit}, over the limit of "
                               f"{limit} {unit}; shorten it by {used - limit}")

    @abstractmethod
    def fetch(self, since: str | None = None) -> Iterator[Review]:
        """Yield reviews newest first, page by page, stopping at the `since` cursor."""

    def post_reply(self, review: Review, text: str) -> PostedReply:
        raise NotImplementedError(f"{self.platform} replies cannot be posted through this source")

    def get_reply(self, review: Review) -> PostedReply | None:
        return None

    def cursor_of(self, review: Review) -> str:
        """The sync point a review represents; sources store the newest one they have seen."""
        return format_time(review.updated_at or review.created_at) or ""
