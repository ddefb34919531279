"""The platform-neutral review, its JSON form, and the interface every connector implements.

The JSON form is one contract used three ways: the webhook body, a line of a JSONL import file,
and what connectors produce. Validation therefore names the field in every message, so an
integrator or a person fixing a file knows exactly what to change.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .errors import PlatformRejected, ReplyTooLong
from .settings import secret_fields
from .text import normalise_text, strip_invisible
from .untrusted import InputError, check_text

_FIELDS = (
    "platform", "external_id", "source", "author", "rating", "title", "text", "language",
    "created_at", "updated_at", "reply", "url", "metadata",
)
MAX_TEXT_CHARS = 20_000
MAX_FIELD_CHARS = 1000
MAX_REPLY_CHARS = 5970
MAX_EXTERNAL_ID = 300
MAX_URL_CHARS = 2048
MAX_METADATA_DEPTH = 8
MAX_METADATA_BYTES = 32 * 1024
# Reviews are dated by platforms that did not exist before 1990; a year outside this range is a
# mistake or an attack (9999-12-31 with a negative offset overflows the calendar in UTC).
MIN_YEAR, MAX_YEAR = 1990, 2199
# RFC 3339 `date-time` exactly: a calendar date, a time with seconds, a fraction, an offset.
# ISO 8601's other forms (week dates, ordinal dates, basic format, no offset) are not accepted.
RFC3339_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
                        r"(?:([Zz])|([+-])(\d{2}):(\d{2}))")
YEAR_PATTERN = r"^(199[0-9]|20[0-9]{2}|21[0-9]{2})-"
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")
URL_RE = re.compile(r"https?://([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(:[0-9]{1,4})?([/?#][^\s]*)?")
_ANONYMOUS = {"google", "google-nutzer", "google-nutzerin", "anonymous", "anonym", "anonyme",
              "anónimo", "anónima", "anônimo", "anonimo", "unknown", "user", "usuario",
              "usuário", "utilisateur", "utilizador", "nutzer", "customer", "cliente", "kunde"}
_TITLES = {"dr", "mr", "mrs", "ms", "miss", "prof", "sr", "sra", "srta", "herr", "frau", "m",
           "mme", "mlle", "sig", "dott"}


def reply_length(text: str, platform: str) -> tuple[int, int, str]:
    """(used, limit, unit) for a reply on a platform; Google Business counts UTF-8 bytes.

    The limit is a fact of the platform's connector, so the registry (which imports this
    module to know what a connector is) is imported when a length is first asked for.
    """
    from .registry import reply_limit

    limit, unit = reply_limit(platform)
    return measure(text, unit), limit, unit


def measure(text: str, unit: str) -> int:
    """A reply's length in the unit its platform counts: UTF-8 "bytes" or "chars"."""
    # surrogatepass: a draft of a row stored before the input rules still gets a count.
    return len(text.encode("utf-8", "surrogatepass")) if unit == "bytes" else len(text)


class ReviewError(InputError):
    """A review that does not meet the format; `field` names the offending field."""

    code = "invalid_review"


def parse_time(value: Any, field_name: str, required: bool = False) -> datetime | None:
    """Parse an RFC 3339 timestamp into an aware UTC datetime; ReviewError names the field."""
    if value is None or value == "":
        if required:
            raise ReviewError(field_name, "is required (RFC 3339 timestamp)")
        return None
    if not isinstance(value, str):
        raise ReviewError(field_name, "must be an RFC 3339 timestamp string")
    match = RFC3339_RE.fullmatch(value.strip())
    if match is None:
        raise ReviewError(field_name, f"{value[:60]!r} is not an RFC 3339 timestamp (like "
                                      "2026-11-01T09:30:00Z: date, time and UTC offset)")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if not MIN_YEAR <= int(year) <= MAX_YEAR:
        raise ReviewError(field_name, f"the year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
    offset = timedelta(0)
    if not zulu:
        if int(off_h) > 23 or int(off_m) > 59:
            raise ReviewError(field_name, f"{value!r} has an impossible UTC offset")
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    try:
        # Google sends up to nine fractional digits; Python keeps microseconds.
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          int((fraction or "0")[:6].ljust(6, "0")), tzinfo=timezone(offset))
    except ValueError as exc:
        raise ReviewError(field_name, f"{value!r} is not a real date and time ({exc})") from None
    return parsed.astimezone(UTC)


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


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
    `reason` is the platform's reason for not publishing it (Google's PolicyViolation, such as
    REPETITIVE), kept in the platform's spelling so a person can look it up.
    """

    text: str
    updated_at: datetime | None = None
    state: str = "published"
    platform_id: str | None = None
    reason: str | None = None

    @property
    def public_state(self) -> str:
        return public_state(self.state)


#: Where a reply stands in public: accepted by the platform (`posted`), shown to everyone
#: (`published`), or refused by its moderation (`rejected`).
POSTED, PUBLISHED, REJECTED = "posted", "published", "rejected"
_PUBLISHED_WORDS = frozenset({"published", "approved", "active", "live"})


def public_state(state: str | None) -> str:
    """The public state a platform's own word means; anything not yet live counts as posted.

    A write the platform accepted is not public until a read shows it live: Google Business
    Profile moderates replies (PENDING, then APPROVED or REJECTED) and the App Store publishes
    responses later (PENDING_PUBLISH, then PUBLISHED).
    """
    word = (state or "").lower()
    if word in _PUBLISHED_WORDS:
        return PUBLISHED
    if "reject" in word or "violation" in word or word == "removed":
        return REJECTED
    return POSTED


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
        """The name to greet: the first word of a real display name, else empty.

        Platforms show anonymous reviewers under a placeholder in the viewer's language
        ("A Google user", "Ein Google-Nutzer", "Usuario de Google"); none of those is a name.
        """
        words = self.author.replace(".", " ").split()
        if not words or any(w.lower() in _ANONYMOUS for w in words):
            return ""
        if len(words) > 1 and words[0].lower() in _TITLES:
            words = words[1:]
        first = words[0].strip(",")
        if len(first) < 2 or not first.replace("-", "").replace("'", "").isalpha():
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
    def from_json(cls, data: Any) -> Review:
        """Validate and normalise one review object; raise ReviewError naming the field.

        Every string a person will read is stored without invisible and bidi characters, and
        none may hold NUL or a lone surrogate (see `connectors.untrusted`).
        """
        if not isinstance(data, dict):
            raise ReviewError("review", "must be a JSON object")
        try:
            check_text(data)
        except InputError as exc:
            raise ReviewError(exc.field, exc.problem) from None
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ReviewError(unknown[0], "is not a review field")
        platform = _platform(data.get("platform", "other"))
        external_id = data.get("external_id")
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str):
            raise ReviewError("external_id", "is required (a non-empty string)")
        external_id = strip_invisible(external_id).strip()
        if not external_id:
            raise ReviewError("external_id", "is required (a non-empty string)")
        if len(external_id) > MAX_EXTERNAL_ID:
            raise ReviewError("external_id", f"is longer than {MAX_EXTERNAL_ID} characters")
        rating = data.get("rating")
        if rating is None:
            raise ReviewError("rating", "is required (an integer from 1 to 5)")
        if isinstance(rating, float) and rating.is_integer():
            rating = int(rating)  # JSON has one number type: 5.0 is the integer 5
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ReviewError("rating", f"must be an integer from 1 to 5, got {rating!r}")
        created_at = parse_time(data.get("created_at"), "created_at", required=True)
        updated_at = parse_time(_no_empty(data, "updated_at"), "updated_at")
        strings = {name: _string(data, name, MAX_FIELD_CHARS)
                   for name in ("source", "author", "title")}
        language = _string(data, "language") or None
        if language is not None and not LANGUAGE_RE.fullmatch(language):
            raise ReviewError("language", "must be a language tag such as 'en' or 'pt-BR'")
        reply = data.get("reply")
        existing = None
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(reply.get("text"), str):
                raise ReviewError("reply", "must be null or an object with a 'text' string")
            extra = sorted(set(reply) - {"text", "updated_at"})
            if extra:
                raise ReviewError(f"reply.{extra[0]}", "is not a reply field")
            if len(reply["text"]) > MAX_REPLY_CHARS:
                raise ReviewError("reply.text", f"is longer than {MAX_REPLY_CHARS} characters")
            existing = ExistingReply(normalise_text(reply["text"]), parse_time(
                _no_empty(reply, "updated_at", "reply."), "reply.updated_at"))
        text = normalise_text(_string(data, "text"))
        if len(text) > MAX_TEXT_CHARS:
            raise ReviewError("text", f"is longer than {MAX_TEXT_CHARS} characters")
        return cls(
            platform=platform,
            external_id=external_id,
            rating=rating,
            created_at=created_at,  # type: ignore[arg-type]
            source=strip_invisible(strings["source"]).strip(),
            author=normalise_text(strings["author"]),
            title=normalise_text(strings["title"]),
            text=text,
            language=language.lower() if language else None,
            updated_at=updated_at,
            reply=existing,
            url=_url(data),
            metadata=_metadata(data.get("metadata")),
        )

    def validated(self) -> Review:
        """This review after the same checks and clean-up as a review sent as JSON.

        Connectors build reviews from platform payloads; passing them through here means a
        platform listing obeys exactly the rules of the webhook and the import file.
        """
        return Review.from_json(self.to_json())


def _platform(value: Any) -> str:
    """A platform some installed connector speaks for, or "other"."""
    from .registry import check_platform

    try:
        return check_platform(value)
    except InputError as exc:
        raise ReviewError(exc.field, exc.problem) from None


def _no_empty(data: dict[str, Any], name: str, prefix: str = "") -> Any:
    """An optional timestamp is null or left out when unknown, never an empty string."""
    if data.get(name) == "":
        raise ReviewError(prefix + name, "must be an RFC 3339 timestamp or null, not empty")
    return data.get(name)


def _string(data: dict[str, Any], name: str, limit: int | None = None) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ReviewError(name, "must be a string")
    if limit is not None and len(value) > limit:
        raise ReviewError(name, f"is longer than {limit} characters")
    return value


def _url(data: dict[str, Any]) -> str | None:
    """A link to the review on its platform: http(s), a host name, nothing invisible."""
    url = strip_invisible(_string(data, "url", MAX_URL_CHARS)).strip()
    if "url" in data and data["url"] is not None and not url:
        raise ReviewError("url", "must be an http(s) URL with a host, or null")
    if not url:
        return None
    if not URL_RE.fullmatch(url):
        raise ReviewError("url", "must be an http(s) URL with a host, like "
                                 "https://play.google.com/store/apps/details?id=...")
    try:
        urlsplit(url).port  # noqa: B018 - parses the port, raising for an impossible one
    except ValueError as exc:
        raise ReviewError("url", f"is not a valid URL ({exc})") from None
    return url


def _metadata(value: Any) -> dict[str, Any]:
    """Platform details (app version, territory, location): a small JSON object whose strings
    are shown to people, so they are cleaned like every other text."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ReviewError("metadata", "must be a JSON object")
    cleaned = _clean(value, "metadata", 1)
    size = len(json.dumps(cleaned, ensure_ascii=False).encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise ReviewError("metadata", f"is {size} bytes of JSON, over the limit of "
                                      f"{MAX_METADATA_BYTES}")
    return cleaned


def _clean(value: Any, path: str, depth: int) -> Any:
    if isinstance(value, str):
        return strip_invisible(value)
    if isinstance(value, (dict, list)) and depth > MAX_METADATA_DEPTH:
        raise ReviewError(path, f"nests deeper than {MAX_METADATA_DEPTH} levels")
    if isinstance(value, dict):
        return {strip_invisible(str(key)): _clean(item, f"{path}.{key}", depth + 1)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise ReviewError(path, "must be a finite number")
    return value


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
