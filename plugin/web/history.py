"""What changed between draft versions, as data the template renders as escaped text.

Diffs are by word (keeping whitespace), which reads naturally for prose; difflib only compares,
it never produces markup.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from ..store.models import AuditRow, DraftRow, ReviewRow, RevisionRow

_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """[(kind, text)] with kind in equal/insert/delete, adjacent pieces of a kind merged."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            pieces.append(("delete", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(("insert", "".join(b[j1:j2])))
        if op == "equal":
            pieces.append(("equal", "".join(a[i1:i2])))
    merged: list[tuple[str, str]] = []
    for kind, text in pieces:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged


@dataclass(frozen=True)
class Version:
    draft: DraftRow
    diff: list[tuple[str, str]]
    previous: int | None


def versions(drafts: list[DraftRow]) -> list[Version]:
    """Newest first, each with its diff against the version before it."""
    found: list[Version] = []
    previous: DraftRow | None = None
    for draft in sorted(drafts, key=lambda d: d.version):
        diff = word_diff(previous.text, draft.text) if previous else [("equal", draft.text)]
        found.append(Version(draft, diff, previous.version if previous else None))
        previous = draft
    return list(reversed(found))


@dataclass(frozen=True)
class Wording:
    """One wording of the review: what the customer said at some point."""

    rating: int
    title: str
    text: str
    at: datetime | None


@dataclass(frozen=True)
class Edit:
    """The customer's latest edit: the wording before it and now, and what we had answered.

    `earlier` lists the wordings before `before`, newest first, when the customer edited more
    than once. `reply` is the reply the customer saw (or would have seen) when they edited: the
    public one if there is one, else the draft that was current then.
    """

    before: Wording
    after: Wording
    diff: list[tuple[str, str]]
    earlier: list[Wording]
    reply: str | None
    reply_public: bool


def latest_edit(row: ReviewRow, revisions: list[RevisionRow],
                drafts: list[DraftRow]) -> Edit | None:
    """What the latest edit changed; None for a review never edited."""
    if not revisions:
        return None
    ordered = sorted(revisions, key=lambda r: r.id, reverse=True)
    # A wording is dated by the platform's edit time; the first one, never edited, by when
    # the review was written.
    wordings = [Wording(r.rating, r.title or "", r.text or "",
                        r.review_updated_at or row.review_created_at) for r in ordered]
    now = Wording(row.rating, row.title or "", row.text or "",
                  row.review_updated_at or ordered[0].recorded_at)
    edited_at = ordered[0].recorded_at
    reply: str | None = row.platform_reply
    public = bool((reply or "").strip())
    if not public:
        before_edit = [d for d in drafts if d.created_at <= edited_at]
        reply = max(before_edit, key=lambda d: d.version).text if before_edit else None
    return Edit(before=wordings[0], after=now, diff=word_diff(wordings[0].text, now.text),
                earlier=wordings[1:], reply=reply, reply_public=public)


def events(audit: list[AuditRow]) -> list[AuditRow]:
    return sorted(audit, key=lambda a: a.id, reverse=True)
