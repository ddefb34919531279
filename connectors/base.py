"""The interface every connector implements, and everything a connector author imports.

A third-party connector package imports from this one module: the `Connector` base class, the
`Review` it produces and the replies it reports. Where each of those is defined (the review's
validation lives in `connectors.review`) is not part of the contract.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

from .errors import PlatformRejected, ReplyTooLong
from .review import (
    MAX_EXTERNAL_ID,
    MAX_FIELD_CHARS,
    MAX_REPLY_CHARS,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    MAX_YEAR,
    MIN_YEAR,
    POSTED,
    PUBLISHED,
    REJECTED,
    URL_RE,
    YEAR_PATTERN,
    ExistingReply,
    PostedReply,
    Review,
    ReviewError,
    format_time,
    measure,
    parse_time,
    public_state,
    reply_length,
)
from .settings import secret_fields

__all__ = [
    "MAX_EXTERNAL_ID", "MAX_FIELD_CHARS", "MAX_REPLY_CHARS", "MAX_TEXT_CHARS", "MAX_URL_CHARS",
    "MAX_YEAR", "MIN_YEAR", "POSTED", "PUBLISHED", "REJECTED", "URL_RE", "YEAR_PATTERN",
    "Connector", "ExistingReply", "PostedReply", "Review", "ReviewError", "format_time",
    "measure", "parse_time", "public_state", "reply_length",
]


class Connector(ABC):
    """One review platform. Subclasses are registered under the `makeright.connectors` entry point.

    Connectors never import `plugin`: they turn platform payloads into `Review`s and replies into
    platform calls, and report failures with the typed errors of `connectors.errors`.
    """

    #: The platform's facts, the same on every connector of one platform: its name in the
    #: review format, the name a person reads, and how long a reply may be there ("chars" or
    #: UTF-8 "bytes"). The registry derives every list of platforms from them.
    platform: ClassVar[str] = "other"
    platform_label: ClassVar[str] = "Other"
    reply_limit: ClassVar[int] = 4096
    reply_limit_unit: ClassVar[str] = "chars"
    #: Can replies be posted through this connector? Read-only feeds say False.
    answerable: ClassVar[bool] = True
    #: Does the platform's answer to a write carry the reply's public state? Then the poster
    #: records it without reading the reply back (one request fewer in every post).
    write_shows_state: ClassVar[bool] = False
    #: Posts to this platform one worker process runs at once; None leaves it to the worker's
    #: posting concurrency (its quota counters still refuse what a quota does not allow).
    parallel_writes: ClassVar[int | None] = None
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

    def check_reply(self, text: str) -> None:
        """Refuse an empty or over-long reply before any request is made (or quota spent)."""
        if not text.strip():
            raise PlatformRejected(f"{self.platform}: the reply is empty")
        limit, unit = self.reply_limit, self.reply_limit_unit
        used = measure(text, unit)
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
