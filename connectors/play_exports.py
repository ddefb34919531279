"""Google Play's monthly review exports: older reviews the reviews API no longer lists.

`reviews.list` returns only about the last week, but replies work on older review ids, and
those are in the monthly files `reviews_<package>_<YYYYMM>.csv` that Play writes to the
developer account's Cloud Storage bucket (Play Console > Download reports > Reviews). The files
are UTF-16LE CSV with the header row below, exactly as Google writes it; the review id is the
`reviewId` parameter of the Review Link.

Files are read from disk or from `gs://bucket/path` with the official google-cloud-storage
client and the Play source's service account (which needs read access to the bucket).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .base import ExistingReply, Review, ReviewError
from .errors import Refusal
from .text import normalise_text

#: The header of a Play review export, column for column.
HEADER = ("Package Name", "App Version Code", "App Version Name", "Reviewer Language", "Device",
          "Review Submit Date and Time", "Review Submit Millis Since Epoch",
          "Review Last Update Date and Time", "Review Last Update Millis Since Epoch",
          "Star Rating", "Review Title", "Review Text", "Developer Reply Date and Time",
          "Developer Reply Millis Since Epoch", "Developer Reply Text", "Review Link")
STORAGE_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"


class ExportError(Refusal, ValueError):
    """A file that is not a Play review export; the message names the file and the problem."""

    code = "invalid_export"


@dataclass
class Export:
    """What one export file holds: reviews to import, and what could not or need not be."""

    name: str
    reviews: list[Review] = field(default_factory=list)
    #: Star-only rows: Play lets developers answer only reviews with text.
    rating_only: int = 0
    #: `line N: column: problem` for each row that could not be read.
    errors: list[str] = field(default_factory=list)


def parse_export(data: bytes, name: str) -> Export:
    """Every row of one export file; bad rows are reported by line, the others kept."""
    text = _decode(data, name)
    rows = csv.reader(io.StringIO(text, newline=""))
    header = tuple(cell.strip() for cell in next(rows, ()))
    if header != HEADER:
        missing = [column for column in HEADER if column not in header]
        raise ExportError(f"{name}: line 1: not a Play review export header"
                          + (f" (missing: {', '.join(missing)})" if missing else
                             " (the columns are in another order)"))
    export = Export(name)
    for number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(HEADER):
            export.errors.append(f"line {number}: has {len(cells)} columns, the header "
                                 f"{len(HEADER)}")
            continue
        row = dict(zip(HEADER, cells, strict=True))
        try:
            review = _review(row)
        except ReviewError as exc:
            export.errors.append(f"line {number}: {exc}")
            continue
        if review is None:
            export.rating_only += 1
        else:
            export.reviews.append(review)
    return export


def _decode(data: bytes, name: str) -> str:
    """UTF-16LE as Play writes it (with or without its byte-order mark)."""
    if data.startswith(b"\xff\xfe"):
        data = data[2:]
    elif data.startswith(b"\xef\xbb\xbf") or (data[:1].isascii() and data[1:2] != b"\x00"):
        raise ExportError(f"{name}: is not UTF-16 text; Play review exports are UTF-16LE")
    try:
        return data.decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise ExportError(f"{name}: byte {exc.start}: not UTF-16LE text") from None


def _review(row: dict[str, str]) -> Review | None:
    text = normalise_text(row["Review Text"])
    title = normalise_text(row["Review Title"])
    if not text.strip() and not title.strip():
        return None
    review_id = _review_id(row["Review Link"])
    rating = row["Star Rating"].strip()
    if rating not in ("1", "2", "3", "4", "5"):
        raise ReviewError("Star Rating", f"must be 1 to 5, got {rating!r}")
    submitted = _millis(row, "Review Submit Millis Since Epoch", required=True)
    reply = None
    if row["Developer Reply Text"].strip():
        reply = ExistingReply(normalise_text(row["Developer Reply Text"]),
                              _millis(row, "Developer Reply Millis Since Epoch"))
    metadata = {key: row[column].strip() for column, key in (
        ("App Version Code", "app_version_code"), ("App Version Name", "app_version_name"),
        ("Reviewer Language", "reviewer_language"), ("Device", "device"))
        if row[column].strip()}
    metadata["imported_from"] = "play_export"
    return Review(
        platform="google_play", external_id=review_id, rating=int(rating),
        created_at=submitted,  # type: ignore[arg-type]
        updated_at=_millis(row, "Review Last Update Millis Since Epoch"),
        source=row["Package Name"].strip(), title=title, text=text, reply=reply,
        metadata=metadata,
    ).validated()


def _review_id(link: str) -> str:
    values = parse_qs(urlsplit(link.strip()).query).get("reviewId")
    if not values or not values[0].strip():
        raise ReviewError("Review Link", "has no reviewId, so the review cannot be answered")
    return values[0].strip()


def _millis(row: dict[str, str], column: str, required: bool = False) -> datetime | None:
    raw = row[column].strip()
    if not raw:
        if required:
            raise ReviewError(column, "is required")
        return None
    if not raw.isdigit():
        raise ReviewError(column, f"must be milliseconds since 1970, got {raw[:30]!r}")
    return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)


def read_local(path: str) -> list[tuple[str, bytes]]:
    """One file, or every `reviews_*.csv` in a folder, oldest month first."""
    target = Path(path)
    if target.is_dir():
        files = sorted(target.glob("reviews_*.csv"))
        if not files:
            raise ExportError(f"{path}: has no reviews_*.csv files")
        return [(str(f), f.read_bytes()) for f in files]
    try:
        return [(path, target.read_bytes())]
    except OSError as exc:
        raise ExportError(f"{path}: {exc.strerror or exc}") from None


def read_storage(url: str, service_account: dict[str, Any] | str,
                 client_options: dict[str, Any] | None = None) -> list[tuple[str, bytes]]:
    """`gs://bucket/object.csv`, or every `.csv` under `gs://bucket/prefix/`, through the
    official client with the service account's credentials (read-only scope)."""
    from google.cloud import storage
    from google.oauth2 import service_account as accounts

    parts = urlsplit(url)
    bucket_name, prefix = parts.netloc, parts.path.lstrip("/")
    if parts.scheme != "gs" or not bucket_name:
        raise ExportError(f"{url}: is not a gs://bucket/path address")
    info = json.loads(service_account) if isinstance(service_account, str) else service_account
    credentials = accounts.Credentials.from_service_account_info(info, scopes=[STORAGE_SCOPE])
    client = storage.Client(project=info.get("project_id"), credentials=credentials,
                            client_options=client_options)
    bucket = client.bucket(bucket_name)
    if prefix.endswith(".csv"):
        names = [prefix]
    else:
        names = sorted(blob.name for blob in client.list_blobs(bucket_name, prefix=prefix)
                       if blob.name.endswith(".csv"))
        if not names:
            raise ExportError(f"{url}: holds no .csv files")
    return [(f"gs://{bucket_name}/{name}", bucket.blob(name).download_as_bytes())
            for name in names]


def exports(files: list[tuple[str, bytes]]) -> Iterator[Export]:
    for name, data in files:
        yield parse_export(data, name)
