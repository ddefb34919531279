"""Reading a policy folder: strict, and every problem reported as `file:key: problem`.

The policy is edited by people who do not read code, so the loader collects all problems of a
folder in one pass instead of stopping at the first.

A policy folder builds on the bundled one: its lexicons add words and categories to the bundled
lexicons, its `templates/<language>.toml` and `[phrasing.<language>]` in policy.toml replace the
bundled phrasing key by key, and a missing system.md means the bundled one. So a business
writes only what is its own, and a new category needs wording only in the languages the
business answers in.
"""
from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors import registry

from ..bundled import default_policy_dir
from . import OFFER_KINDS, Offer, Policy, PolicyError, phrasing

_ID_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class PolicyLoader:
    def __init__(self, root: Path, base: Path | None = None):
        self.root = root
        self.base = (base or default_policy_dir()).resolve()
        self.layered = self.root.resolve() != self.base
        self.problems: list[str] = []

    def problem(self, file: str, key: str, text: str) -> None:
        self.problems.append(f"{file}:{key}: {text}")

    def read_toml(self, rel: str, required: bool = True,
                  root: Path | None = None) -> dict[str, Any]:
        path = (root or self.root) / rel
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
        sentiment = self.lexicon("lexicons/sentiment.toml") if self.layered or (
            self.root / "lexicons/sentiment.toml").is_file() else {}
        brand = self.table(data, "brand", {"name": str, "voice": str, "sign_off": str,
                                           "default_language": str, "response_target_hours": int,
                                           "languages": list, "currency": str,
                                           "response_target_hours_by_rating": dict},
                           required=("name", "sign_off"))
        self.targets_by_rating(brand)
        sources = phrasing.sources(self, data.get("phrasing", {}))
        languages = self.languages(brand, sources)
        templates = phrasing.templates(self, set(categories), languages, sources)
        offers = self.offers(data.get("offers", []), set(categories), languages,
                             brand.get("currency"))
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
            if name not in registry.platforms():
                self.problem("policy.toml", f"platforms.{name}", "unknown platform (use one of "
                             f"{', '.join(registry.platform_names())})")
            elif not isinstance(overrides, dict):
                self.problem("policy.toml", f"platforms.{name}", "must be a table")
            else:
                allowed = {"name", "voice", "sign_off", "email", "phone", "url", "compact"}
                for key in sorted(set(overrides) - allowed):
                    self.problem("policy.toml", f"platforms.{name}.{key}", "is not an override")
        locations = self.locations(data.get("locations", {}))
        auto = self.table(data, "auto_approve", {"enabled": bool, "min_rating": int,
                                                 "daily_cap": int, "delay_minutes": int})
        for key in sorted(set(data) - {"brand", "contact", "links", "offers", "escalation",
                                       "guardrails", "platforms", "auto_approve", "phrasing",
                                       "locations"}):
            self.problem("policy.toml", key, "is not a policy section")
        default_language = brand.get("default_language", "en")
        if languages and default_language not in languages:
            self.problem("policy.toml", "brand.default_language",
                         f"{default_language!r} is not one of the languages the policy answers "
                         f"in ({', '.join(languages)})")
        system_path = self.root / "system.md"
        if not system_path.is_file() and self.layered:
            system_path = self.base / "system.md"
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
            sentiment=sentiment,
            languages=tuple(languages), locations=locations,
        )

    def locations(self, raw: Any) -> dict[str, dict[str, str]]:
        """[locations.<id>]: a location's own label, sign-off and contact, so a chain or an
        agency runs every location on one folder."""
        if not isinstance(raw, dict):
            self.problem("policy.toml", "locations", "must be a table of [locations.<id>]")
            return {}
        found: dict[str, dict[str, str]] = {}
        for lid, place in raw.items():
            key = f"locations.{lid}"
            if not _ID_RE.match(lid):
                self.problem("policy.toml", key, "id must be lower-case letters, digits and "
                                                 "underscores")
                continue
            if not isinstance(place, dict):
                self.problem("policy.toml", key, "must be a table")
                continue
            for name, value in place.items():
                if name not in ("label", "sign_off", "email", "phone", "url"):
                    self.problem("policy.toml", f"{key}.{name}", "is not a location setting "
                                 "(use label, sign_off, email, phone or url)")
                elif not isinstance(value, str):
                    self.problem("policy.toml", f"{key}.{name}", "must be a text")
            found[lid] = {k: v for k, v in place.items() if isinstance(v, str)}
        return found

    def languages(self, brand: dict[str, Any], sources: phrasing.Sources) -> list[str]:
        """The languages the policy answers in: `brand.languages`, else every language with
        phrasing."""
        listed = brand.get("languages")
        if listed is None:
            return sorted(sources)
        languages: list[str] = []
        for lang in listed:
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", lang):
                self.problem("policy.toml", "brand.languages",
                             f"{lang!r} is not a language code such as en or pt-BR")
            elif lang not in languages:
                languages.append(lang)
        if not languages:
            self.problem("policy.toml", "brand.languages", "name at least one language")
        return languages

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
            elif isinstance(value, list) and not all(isinstance(v, str) and v for v in value):
                self.problem("policy.toml", f"{name}.{key}", "must be a list of non-empty texts")
        for key in required:
            if not table.get(key):
                self.problem("policy.toml", f"{name}.{key}", "is required")
        return table

    def targets_by_rating(self, brand: dict[str, Any]) -> None:
        """`[brand] response_target_hours_by_rating = {1 = 4, 2 = 8}`: a tighter target for
        complaints than for praise. Ratings left out keep `response_target_hours`."""
        key = "brand.response_target_hours_by_rating"
        targets = brand.get("response_target_hours_by_rating")
        if not isinstance(targets, dict):
            return
        for rating, hours in targets.items():
            if rating not in ("1", "2", "3", "4", "5"):
                self.problem("policy.toml", key, f"{rating!r} is not a star rating (use 1 to 5)")
            elif not isinstance(hours, int) or isinstance(hours, bool) or hours < 1:
                self.problem("policy.toml", f"{key}.{rating}",
                             f"must be a whole number of hours, at least 1, got {hours!r}")

    def offers(self, raw: Any, categories: set[str], languages: list[str],
               default_currency: str | None) -> list[Offer]:
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
                self.problem("policy.toml", f"{key}.kind",
                             f"must be one of {', '.join(OFFER_KINDS)}")
            gives = item.get("gives")
            if not isinstance(gives, dict):
                self.problem("policy.toml", f"{key}.gives",
                             "is required (the offer's words, per language)")
                gives = {}
            for lang in languages:
                if lang not in gives:
                    self.problem("policy.toml", f"{key}.gives", f"missing for {lang}")
            cap = self.decimal(item, "cap", key)
            percent = self.decimal(item, "percent", key)
            currency = item.get("currency", default_currency)
            if kind == "money":
                if cap is None or cap <= 0:
                    self.problem("policy.toml", f"{key}.cap", "a money offer needs a positive cap")
                if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
                    self.problem("policy.toml", f"{key}.currency",
                                 "a money offer needs a 3-letter currency code such as EUR "
                                 "(here or as brand.currency)")
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
        """The bundled lexicon with this folder's words and categories added."""
        lexicon: dict[str, dict[str, tuple[str, ...]]] = {}
        if self.layered:
            self.read_lexicon(rel, self.read_toml(rel, root=self.base), lexicon)
        self.read_lexicon(rel, self.read_toml(rel, required=not self.layered), lexicon)
        return lexicon

    def read_lexicon(self, rel: str, data: dict[str, Any],
                     lexicon: dict[str, dict[str, tuple[str, ...]]]) -> None:
        for name, langs in data.items():
            if not isinstance(langs, dict):
                self.problem(rel, name, "must be a table of language = [words]")
                continue
            entry: dict[str, tuple[str, ...]] = {}
            for lang, words in langs.items():
                if not (isinstance(words, list) and all(isinstance(w, str) and w.strip()
                                                        for w in words)):
                    self.problem(rel, f"{name}.{lang}", "must be a list of non-empty texts")
                    continue
                entry[lang] = tuple(words)
            known = lexicon.setdefault(name, {})
            for lang, words in entry.items():
                known[lang] = tuple(dict.fromkeys((*known.get(lang, ()), *words)))


_TYPE_NAMES = {str: "text", int: "whole number", list: "list", bool: "true/false", dict: "table"}
