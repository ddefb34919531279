"""Reading the phrasing of a policy: `templates/<language>.toml` files and
`[phrasing.<language>]` tables, merged key by key into one complete `Template` per language.

Kept apart from the rest of the folder's reading because phrasing is layered three deep (the
bundled file, the folder's file, policy.toml) and checked key by key, and because its problems
must name the file each phrase came from, so a translator can find the line to fix.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from . import (
    TEMPLATE_LISTS,
    TEMPLATE_OPTIONAL,
    TEMPLATE_OPTIONAL_STRINGS,
    TEMPLATE_STRINGS,
    Template,
)

Sources = dict[str, list[tuple[str, dict[str, Any]]]]
_KEYS = frozenset({*TEMPLATE_LISTS, *TEMPLATE_OPTIONAL, *TEMPLATE_STRINGS,
                   *TEMPLATE_OPTIONAL_STRINGS, "problems", "concern"})


class Reader(Protocol):
    """What phrasing needs of the folder's loader: its roots, files and problem list."""

    base: Path
    root: Path
    layered: bool

    def problem(self, file: str, key: str, text: str) -> None: ...

    def read_toml(self, rel: str, required: bool = True,
                  root: Path | None = None) -> dict[str, Any]: ...


def sources(reader: Reader, phrasing: Any) -> Sources:
    """Per language, the phrasing tables in the order they apply: the bundled file, this
    folder's file, then `[phrasing.<language>]` in policy.toml. Each is checked for keys
    that are not template keys, naming the file it came from."""
    found: Sources = {}
    roots = [reader.base, reader.root] if reader.layered else [reader.root]
    for root in roots:
        for path in sorted((root / "templates").glob("*.toml")):
            rel = f"templates/{path.name}"
            data = reader.read_toml(rel, root=root)
            if not data:
                continue
            if data.get("language", path.stem) != path.stem:
                reader.problem(rel, "language", f"must be {path.stem!r} (the file's name)")
            _unknown_keys(reader, rel, "", data)
            found.setdefault(path.stem, []).append((rel, data))
    if not isinstance(phrasing, dict):
        reader.problem("policy.toml", "phrasing", "must be a table of [phrasing.<language>]")
        phrasing = {}
    for lang, data in phrasing.items():
        if not isinstance(data, dict):
            reader.problem("policy.toml", f"phrasing.{lang}", "must be a table")
            continue
        _unknown_keys(reader, "policy.toml", f"phrasing.{lang}.", data)
        found.setdefault(lang, []).append(("policy.toml", data))
    return found


def templates(reader: Reader, categories: set[str], languages: list[str],
              found: Sources) -> dict[str, Template]:
    """Complete phrasing for each language the policy answers in; each missing phrase is
    reported as `templates/<language>.toml:key: missing for <language>`."""
    complete: dict[str, Template] = {}
    for lang in languages:
        rel = f"templates/{lang}.toml"
        if lang not in found:
            reader.problem(rel, "-", f"missing for {lang}")
            continue
        merged: dict[str, Any] = {}
        problems_table: dict[str, Any] = {}
        for _, data in found[lang]:
            merged.update({k: v for k, v in data.items() if k != "problems"})
            if isinstance(data.get("problems"), dict):
                problems_table.update(data["problems"])
        check = _Checker(reader, rel, lang)
        strings = _strings(check, merged, lang)
        lists: dict[str, tuple[str, ...]] = {}
        for key in (*TEMPLATE_LISTS, *TEMPLATE_OPTIONAL):
            check.phrasings(lists, key, key, merged.get(key), required=key not in TEMPLATE_OPTIONAL)
        concern = merged.get("concern", {})
        if not isinstance(concern, dict):
            reader.problem(rel, "concern", "must be a table of reason = [phrasings]")
            concern = {}
        for reason, value in concern.items():
            check.phrasings(lists, f"concern:{reason}", f"concern.{reason}", value)
        problems: dict[str, tuple[str, ...]] = {}
        for cat in sorted(categories | {"other"}):
            check.phrasings(problems, cat, f"problems.{cat}", problems_table.get(cat),
                            required=True)
        complete[lang] = Template(lang, strings, lists, problems)
    return complete


class _Checker:
    """One language's file name and problem list, so each check names where it failed."""

    def __init__(self, reader: Reader, rel: str, lang: str):
        self.reader, self.rel, self.lang = reader, rel, lang

    def phrasings(self, into: dict[str, tuple[str, ...]], name: str, key: str, value: Any,
                  required: bool = False) -> None:
        if value is None:
            if required:
                self.reader.problem(self.rel, key, f"missing for {self.lang}")
        elif not (isinstance(value, list) and value
                  and all(isinstance(v, str) and v.strip() for v in value)):
            self.reader.problem(self.rel, key, "must be a list of phrasings")
        else:
            into[name] = tuple(value)


def _strings(check: _Checker, merged: dict[str, Any], lang: str) -> dict[str, str]:
    strings: dict[str, str] = {"language": lang}
    for key in TEMPLATE_STRINGS:
        value = merged.get(key, lang if key == "language" else None)
        if value is None:
            check.reader.problem(check.rel, key, f"missing for {lang}")
        elif not isinstance(value, str) or not value:
            check.reader.problem(check.rel, key, "must be a text")
        else:
            strings[key] = value
    for key in TEMPLATE_OPTIONAL_STRINGS:
        value = merged.get(key)
        if value is not None and not (isinstance(value, str) and value):
            check.reader.problem(check.rel, key, "must be a text")
        elif value:
            strings[key] = value
    return strings


def _unknown_keys(reader: Reader, rel: str, prefix: str, data: dict[str, Any]) -> None:
    for key in sorted(set(data) - _KEYS):
        reader.problem(rel, f"{prefix}{key}", "is not a template key")
