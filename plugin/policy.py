"""The company policy, loaded from the prompts folder.

The policy is data a non-programmer edits, so loading is strict and every problem is reported
as `file:key: problem`, all at once, instead of failing on the first one.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from connectors.base import PLATFORMS

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "prompts"
OFFER_KINDS = ("money", "percent", "item", "service")
TEMPLATE_LISTS = (
    "greeting", "greeting_anonymous", "apology", "acknowledge", "offer", "no_offer", "contact",
    "closing", "praise", "praise_closing", "praise_problem", "escalation", "escalation_contact",
)
# Optional phrasings: without them the drafter falls back to the general slots.
TEMPLATE_OPTIONAL = ("rating_only", "escalation_self_harm")
TEMPLATE_STRINGS = (
    "language", "money", "percent", "and", "contact_email", "contact_phone", "contact_url",
    "contact_or",
)
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class PolicyError(Exception):
    """A policy folder with problems; `problems` lists every `file:key: problem`."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Offer:
    id: str
    label: str
    kind: str
    gives: dict[str, str]
    ratings: frozenset[int]
    categories: frozenset[str]
    cap: Decimal | None = None
    currency: str | None = None
    percent: Decimal | None = None
    manager_approval: bool = False

    def fits(self, rating: int, categories: list[str]) -> bool:
        if rating not in self.ratings:
            return False
        return not self.categories or bool(self.categories.intersection(categories))

    def words(self, template: "Template") -> str:
        """The offer as the reply states it, amounts written the language's way."""
        text = self.gives.get(template.language) or self.gives["en"]
        return text.replace("{amount}", self.amount_text(template))

    def amount_text(self, template: "Template") -> str:
        if self.kind == "money" and self.cap is not None:
            return template.money.replace("{amount}", _number(self.cap))
        if self.kind == "percent" and self.percent is not None:
            return template.percent.replace("{amount}", _number(self.percent))
        return ""

    def to_json(self) -> dict[str, Any]:
        value = None
        if self.kind == "money":
            value = {"amount": float(self.cap or 0), "currency": self.currency}
        elif self.kind == "percent":
            value = {"percent": float(self.percent or 0)}
        return {"id": self.id, "label": self.label, "kind": self.kind, "value": value,
                "manager_approval": self.manager_approval}


def _number(value: Decimal) -> str:
    return f"{value:.2f}" if value != value.to_integral_value() else str(int(value))


@dataclass(frozen=True)
class Template:
    """Offline-drafter phrasing for one language (prompts/templates/<lang>.toml)."""

    language: str
    strings: dict[str, str]
    lists: dict[str, tuple[str, ...]]
    problems: dict[str, tuple[str, ...]]

    @property
    def money(self) -> str:
        return self.strings["money"]

    @property
    def percent(self) -> str:
        return self.strings["percent"]


@dataclass(frozen=True)
class Voice:
    """Brand and contact settings after per-platform overrides."""

    brand: str
    voice: str
    sign_off: str
    email: str
    phone: str
    url: str
    compact: bool = False


@dataclass
class Policy:
    directory: Path
    brand: dict[str, Any]
    contact: dict[str, str]
    offers: list[Offer]
    escalation_triggers: tuple[str, ...]
    banned_phrases: tuple[str, ...]
    promise_words: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    platforms: dict[str, dict[str, Any]]
    auto_approve: dict[str, Any]
    templates: dict[str, Template]
    categories: dict[str, dict[str, tuple[str, ...]]]
    escalation_lexicon: dict[str, dict[str, tuple[str, ...]]]
    system_prompt: str = ""
    _voices: dict[str, Voice] = field(default_factory=dict, repr=False)

    @property
    def default_language(self) -> str:
        return str(self.brand.get("default_language", "en"))

    @property
    def response_target_hours(self) -> int:
        return int(self.brand.get("response_target_hours", 48))

    def offer(self, offer_id: str | None) -> Offer | None:
        return next((o for o in self.offers if o.id == offer_id), None)

    def allowed_offers(self, rating: int, categories: list[str], escalated: bool) -> list[Offer]:
        """The offers a reply to this review may make; none at all for an escalation."""
        if escalated:
            return []
        return [o for o in self.offers if o.fits(rating, categories)]

    def voice_for(self, platform: str) -> Voice:
        if platform not in self._voices:
            merged = {**self.brand, **self.contact, **self.platforms.get(platform, {})}
            self._voices[platform] = Voice(
                brand=str(merged.get("name", "")),
                voice=str(merged.get("voice", "")),
                sign_off=str(merged.get("sign_off", "")),
                email=str(merged.get("email", "")),
                phone=str(merged.get("phone", "")),
                url=str(merged.get("url", "")),
                compact=bool(merged.get("compact", False)),
            )
        return self._voices[platform]

    @cached_property
    def link_domains(self) -> tuple[str, ...]:
        """Domains a reply may name: the allow-list plus the contact channel's own."""
        domains = set(self.allowed_domains)
        for platform in (*PLATFORMS, None):
            voice = self.voice_for(platform) if platform else None
            for value in ([voice.email, voice.url] if voice else
                          [self.contact.get("email", ""), self.contact.get("url", "")]):
                host = value.rpartition("@")[2] if "@" in value else _host(value)
                if host:
                    domains.add(host.lower())
        return tuple(sorted(domains))


def _host(url: str) -> str:
    match = re.match(r"^[a-z]+://([^/:?#]+)", url.strip(), re.I)
    return match.group(1) if match else ""


def policy_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    return Path(directory or os.environ.get("MAKERIGHT_POLICY_DIR") or DEFAULT_DIR)


_CACHE: dict[tuple[Path, float], Policy] = {}


def load_policy(directory: str | os.PathLike[str] | None = None) -> Policy:
    """Load and validate a policy folder; cached until any of its files changes."""
    root = policy_dir(directory).resolve()
    stamp = max((p.stat().st_mtime for p in root.rglob("*") if p.is_file()), default=0.0)
    key = (root, stamp)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _Loader(root).load()
    return _CACHE[key]


def check_policy(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Every problem of a policy folder as `file:key: problem`; empty when it is valid."""
    try:
        _Loader(policy_dir(directory).resolve()).load()
    except PolicyError as exc:
        return exc.problems
    return []


class _Loader:
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
