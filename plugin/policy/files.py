"""Reading a policy folder: strict, and every problem reported as `file:key: problem`.

The policy is edited by people who do not read code, so the loader collects all problems of a
folder in one pass instead of stopping at the first.
"""
from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.base import PLATFORMS

from . import (OFFER_KINDS, TEMPLATE_LISTS, TEMPLATE_OPTIONAL, TEMPLATE_STRINGS, Offer,
                     Policy, PolicyError, Template)

_ID_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class PolicyLoader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[str] = []

    def problem(self, file: str, key: str, text: str) -> None:
        self.problems.append(f"{file}:{key}: {text}")

    def read_toml(self, rel: str, required: bool = True) -> dict[str, Any]:
        path = self.root / rel
        if not path.is_file():
            if required:
                self.problem(rel, "-", "file is missing")
            return {}
        try:
            with path.open("rb") as fh:
                return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            self.problem(rel, "-", f"not valid TOML ({exc})")
            return {}

    def load(self) -> Policy:
        if not self.root.is_dir():
            raise PolicyError([f"{self.root}:-: policy folder does not exist"])
        data = self.read_toml("policy.toml")
        categories = self.lexicon("lexicons/categories.toml")
        escalation = self.lexicon("lexicons/escalation.toml")
        templates = self.templates(set(categories))
        offers = self.offers(data.get("offers", []), set(categories))
        brand = self.table(data, "brand", {"name": str, "voice": str, "sign_off": str,
                                           "default_language": str, "response_target_hours": int},
                           required=("name", "sign_off"))
        contact = self.table(data, "contact", {"email": str, "phone": str, "url": str})
        if not any(contact.get(k) for k in ("email", "phone", "url")):
            self.problem("policy.toml", "contact", "give at least one of email, phone or url")
        links = self.table(data, "links", {"allowed_domains": list})
        esc = self.table(data, "escalation", {"triggers": list}, required=("triggers",))
        triggers = tuple(esc.get("triggers", ()))
        for name in triggers:
            if name not in escalation:
                self.problem("policy.toml", "escalation.triggers",
                             f"{name!r} has no words in lexicons/escalation.toml")
        guard = self.table(data, "guardrails", {"banned_phrases": list, "promise_words": list})
        platforms = data.get("platforms", {})
        for name, overrides in platforms.items():
            if name not in PLATFORMS:
                self.problem("policy.toml", f"platforms.{name}",
                             f"unknown platform (use one of {', '.join(PLATFORMS)})")
            elif not isinstance(overrides, dict):
                self.problem("policy.toml", f"platforms.{name}", "must be a table")
            else:
                allowed = {"name", "voice", "sign_off", "email", "phone", "url", "compact"}
                for key in sorted(set(overrides) - allowed):
                    self.problem("policy.toml", f"platforms.{name}.{key}", "is not an override")
        auto = self.table(data, "auto_approve", {"enabled": bool, "min_rating": int,
                                                 "daily_cap": int, "delay_minutes": int})
        for key in sorted(set(data) - {"brand", "contact", "links", "offers", "escalation",
                                       "guardrails", "platforms", "auto_approve"}):
            self.problem("policy.toml", key, "is not a policy section")
        default_language = brand.get("default_language", "en")
        if templates and default_language not in templates:
            self.problem("policy.toml", "brand.default_language",
                         f"no templates/{default_language}.toml for the default language")
        system_path = self.root / "system.md"
        system_prompt = system_path.read_text("utf-8") if system_path.is_file() else ""
        if not system_prompt:
            self.problem("system.md", "-", "file is missing or empty")
        if self.problems:
            raise PolicyError(self.problems)
        return Policy(
            directory=self.root, brand=brand, contact=contact, offers=offers,
            escalation_triggers=triggers,
            banned_phrases=tuple(p.lower() for p in guard.get("banned_phrases", ())),
            promise_words=tuple(p.lower() for p in guard.get("promise_words", ())),
            allowed_domains=tuple(d.lower() for d in links.get("allowed_domains", ())),
            platforms=platforms, auto_approve=auto, templates=templates,
            categories=categories, escalation_lexicon=escalation, system_prompt=system_prompt,
        )

    def table(self, data: dict[str, Any], name: str, types: dict[str, type],
              required: tuple[str, ...] = ()) -> dict[str, Any]:
        table = data.get(name, {})
        if not isinstance(table, dict):
            self.problem("policy.toml", name, "must be a table")
            return {}
        for key, value in table.items():
            expected = types.get(key)
            if expected is None:
                self.problem("policy.toml", f"{name}.{key}", "is not a known setting")
            elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                self.problem("policy.toml", f"{name}.{key}",
                             f"must be a {_TYPE_NAMES[expected]}, got {value!r}")
            elif expected is list and not all(isinstance(v, str) and v for v in value):
                self.problem("policy.toml", f"{name}.{key}", "must be a list of non-empty texts")
        for key in required:
            if not table.get(key):
                self.problem("policy.toml", f"{name}.{key}", "is required")
        return table

    def offers(self, raw: Any, categories: set[str]) -> list[Offer]:
        if not isinstance(raw, list):
            self.problem("policy.toml", "offers", "must be a list of [[offers]] tables")
            return []
        offers, seen = [], set()
        for index, item in enumerate(raw, 1):
            key = f"offers[{index}]"
            oid = item.get("id", "")
            if not isinstance(oid, str) or not _ID_RE.match(oid):
                self.problem("policy.toml", f"{key}.id",
                             "must be lower-case letters, digits and underscores")
                continue
            key = f"offers.{oid}"
            if oid in seen:
                self.problem("policy.toml", key, "id is used twice")
            seen.add(oid)
            known = {"id", "label", "kind", "gives", "ratings", "categories", "cap", "currency",
                     "percent", "manager_approval"}
            for extra in sorted(set(item) - known):
                self.problem("policy.toml", f"{key}.{extra}", "is not an offer setting")
            kind = item.get("kind")
            if kind not in OFFER_KINDS:
                self.problem("policy.toml", f"{key}.kind", f"must be one of {', '.join(OFFER_KINDS)}")
            gives = item.get("gives")
            if not isinstance(gives, dict) or not isinstance(gives.get("en"), str):
                self.problem("policy.toml", f"{key}.gives.en", "is required (the offer's words)")
                gives = {}
            cap = self.decimal(item, "cap", key)
            percent = self.decimal(item, "percent", key)
            currency = item.get("currency")
            if kind == "money":
                if cap is None or cap <= 0:
                    self.problem("policy.toml", f"{key}.cap", "a money offer needs a positive cap")
                if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
                    self.problem("policy.toml", f"{key}.currency",
                                 "a money offer needs a 3-letter currency code such as EUR")
            if kind == "percent" and (percent is None or not 0 < percent <= 100):
                self.problem("policy.toml", f"{key}.percent",
                             "a percent offer needs a percent between 1 and 100")
            needs_amount = kind in ("money", "percent")
            for lang, words in gives.items():
                if not isinstance(words, str) or not words.strip():
                    self.problem("policy.toml", f"{key}.gives.{lang}", "must be a non-empty text")
                elif needs_amount != ("{amount}" in words):
                    self.problem("policy.toml", f"{key}.gives.{lang}",
                                 "must contain {amount}" if needs_amount
                                 else "has {amount} but the offer has no amount")
            ratings = item.get("ratings", [1, 2, 3])
            if not (isinstance(ratings, list) and ratings
                    and all(isinstance(r, int) and 1 <= r <= 5 for r in ratings)):
                self.problem("policy.toml", f"{key}.ratings", "must be a list of stars from 1 to 5")
                ratings = []
            cats = item.get("categories", [])
            for cat in cats if isinstance(cats, list) else []:
                if cat not in categories:
                    self.problem("policy.toml", f"{key}.categories",
                                 f"{cat!r} is not a category in lexicons/categories.toml")
            offers.append(Offer(
                id=oid, label=str(item.get("label") or oid), kind=str(kind), gives=gives,
                ratings=frozenset(ratings),
                categories=frozenset(cats if isinstance(cats, list) else []),
                cap=cap, currency=currency, percent=percent,
                manager_approval=bool(item.get("manager_approval", False)),
            ))
        return offers

    def decimal(self, item: dict[str, Any], name: str, key: str) -> Decimal | None:
        value = item.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem("policy.toml", f"{key}.{name}", f"must be a number, got {value!r}")
            return None
        return Decimal(str(value))

    def lexicon(self, rel: str) -> dict[str, dict[str, tuple[str, ...]]]:
        data = self.read_toml(rel)
        lexicon: dict[str, dict[str, tuple[str, ...]]] = {}
        for name, langs in data.items():
            if not isinstance(langs, dict):
                self.problem(rel, name, "must be a table of language = [words]")
                continue
            entry = {}
            for lang, words in langs.items():
                if not (isinstance(words, list) and all(isinstance(w, str) and w.strip()
                                                        for w in words)):
                    self.problem(rel, f"{name}.{lang}", "must be a list of non-empty texts")
                    continue
                entry[lang] = tuple(words)
            lexicon[name] = entry
        return lexicon

    def templates(self, categories: set[str]) -> dict[str, Template]:
        folder = self.root / "templates"
        found: dict[str, Template] = {}
        for path in sorted(folder.glob("*.toml")):
            rel = f"templates/{path.name}"
            data = self.read_toml(rel)
            if not data:
                continue
            lang = data.get("language")
            if lang != path.stem:
                self.problem(rel, "language", f"must be {path.stem!r} (the file's name)")
            strings: dict[str, str] = {}
            for key in TEMPLATE_STRINGS:
                value = data.get(key)
                if not isinstance(value, str) or not value:
                    self.problem(rel, key, "is required (a text)")
                else:
                    strings[key] = value
            for key in ("money", "percent"):
                if key in strings and "{amount}" not in strings[key]:
                    self.problem(rel, key, "must contain {amount}")
            lists: dict[str, tuple[str, ...]] = {}
            for key in (*TEMPLATE_LISTS, *TEMPLATE_OPTIONAL):
                value = data.get(key)
                if value is None and key in TEMPLATE_OPTIONAL:
                    continue
                if not (isinstance(value, list) and value
                        and all(isinstance(v, str) and v.strip() for v in value)):
                    self.problem(rel, key, "is required (a list of phrasings)")
                else:
                    lists[key] = tuple(value)
            problems_table = data.get("problems", {})
            problems: dict[str, tuple[str, ...]] = {}
            for cat in sorted(categories | {"other"}):
                value = problems_table.get(cat)
                if not (isinstance(value, list) and value):
                    self.problem(rel, f"problems.{cat}", "is required (how to name this problem)")
                else:
                    problems[cat] = tuple(value)
            for key in sorted(set(data) - set(TEMPLATE_LISTS) - set(TEMPLATE_OPTIONAL)
                              - set(TEMPLATE_STRINGS) - {"problems"}):
                self.problem(rel, key, "is not a template key")
            found[path.stem] = Template(path.stem, strings, lists, problems)
        if not found:
            self.problem("templates", "-", "no <language>.toml templates found")
        return found


_TYPE_NAMES = {str: "text", int: "whole number", list: "list", bool: "true/false", dict: "table"}
