"""What changed between draft versions, as data the template renders as escaped text.

Diffs are by word (keeping whitespace), which reads naturally for prose; difflib only compares,
it never produces markup.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ..store.models import AuditRow, DraftRow

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


def events(audit: list[AuditRow]) -> list[AuditRow]:
    return sorted(audit, key=lambda a: a.id, reverse=True)
