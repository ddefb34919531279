"""The company policy, loaded from the prompts folder.

The policy is data a non-programmer edits, so loading is strict and every problem is reported
as `file:key: problem`, all at once, instead of failing on the first one.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar, cast

from connectors import registry

from .. import money
from ..bundled import default_policy_dir
from ..config import PathSettings
from ..errors import MakeRightError

DEFAULT_DIR = default_policy_dir()
OFFER_KINDS = ("money", "percent", "item", "service")
T = TypeVar("T")

TEMPLATE_LISTS = (
    "greeting", "greeting_anonymous", "apology", "acknowledge", "offer", "no_offer", "contact",
    "closing", "praise", "praise_closing", "praise_problem", "escalation", "escalation_contact",
)
# Optional phrasings: without them the drafter falls back to the general slots.
TEMPLATE_OPTIONAL = ("rating_only", "escalation_self_harm", "liked", "praise_low",
                     "sorry_words")
TEMPLATE_STRINGS = (
    "language", "and", "contact_email", "contact_phone", "contact_url",
    "contact_or",
)
# Optional texts: a generic offer phrase for offers without wording in the language, and the
# sign-off used in that language when it differs from the default language's.
TEMPLATE_OPTIONAL_STRINGS = ("offer_generic", "sign_off")


class PolicyError(MakeRightError):
    """A policy folder with problems; `problems` lists every `file:key: problem`."""

    code = "invalid_policy"
    status = 500

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

    def words(self, template: Template) -> str:
        """The offer as the reply states it, amounts written the language's way. The policy
        check guarantees wording in every language the policy answers in, so no other
        language's words are ever put into a reply."""
        return self.gives[template.language].replace("{amount}", self.amount_text(template))

    def amount_text(self, template: Template) -> str:
        if self.kind == "money" and self.cap is not None and self.currency:
            return money.money(self.cap, self.currency, template.language)
        if self.kind == "percent" and self.percent is not None:
            return money.percent(self.percent, template.language)
        return ""

    def to_json(self) -> dict[str, Any]:
        value = None
        if self.kind == "money":
            value = {"amount": float(self.cap or 0), "currency": self.currency}
        elif self.kind == "percent":
            value = {"percent": float(self.percent or 0)}
        return {"id": self.id, "label": self.label, "kind": self.kind, "value": value,
                "manager_approval": self.manager_approval}


@dataclass(frozen=True)
class Template:
    """Offline-drafter phrasing for one language (prompts/templates/<lang>.toml)."""

    language: str
    strings: dict[str, str]
    lists: dict[str, tuple[str, ...]]
    problems: dict[str, tuple[str, ...]]


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
    # lexicons/sentiment.toml: praise and complaint words, and the categories that are topics.
    sentiment: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # The languages replies are written in; every one has complete phrasing and offer wording.
    languages: tuple[str, ...] = ()
    # Per-location sign-off and contact ([locations.<id>]); `location` is the one applied.
    locations: dict[str, dict[str, str]] = field(default_factory=dict)
    location: str = ""
    _at: dict[str, Policy] = field(default_factory=dict, repr=False)
    _voices: dict[str, Voice] = field(default_factory=dict, repr=False)
    # What the hot paths compile from this policy (classifier, guardrail rules), kept with the
    # policy so several brands' policies in one process never evict each other.
    _compiled: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                      compare=False)

    def compiled(self, name: str, build: Callable[[Policy], T]) -> T:
        """`build(self)` once per policy object; later calls return the same result."""
        if name not in self._compiled:
            self._compiled[name] = build(self)
        return cast(T, self._compiled[name])

    @property
    def default_language(self) -> str:
        return str(self.brand.get("default_language", "en"))

    @property
    def response_target_hours(self) -> int:
        return int(self.brand.get("response_target_hours", 48))

    @property
    def response_targets(self) -> dict[int, int]:
        """Hours allowed for a reply, per star rating: `response_target_hours_by_rating` where
        the policy gives one, `response_target_hours` for the rest."""
        given = self.brand.get("response_target_hours_by_rating") or {}
        return {rating: int(given.get(str(rating), self.response_target_hours))
                for rating in range(1, 6)}

    @property
    def label(self) -> str:
        """How the queue names this policy: the brand, and the location when there is one."""
        name = str(self.brand.get("name", ""))
        if not self.location:
            return name
        return f"{name} · {self.locations[self.location].get('label', self.location)}"

    def at(self, location: str | None) -> Policy:
        """This policy with one location's sign-off and contact in place of the brand's."""
        if not location:
            return self
        if location in self._at:
            return self._at[location]
        if location not in self.locations:
            raise PolicyError([f"policy.toml:locations.{location}: no such location "
                               f"(known: {', '.join(sorted(self.locations)) or 'none'})"])
        place = self.locations[location]
        brand = {**self.brand, **{k: v for k, v in place.items() if k in ("sign_off",)}}
        contact = {**self.contact,
                   **{k: v for k, v in place.items() if k in ("email", "phone", "url")}}
        self._at[location] = replace(self, brand=brand, contact=contact, location=location,
                                     _voices={}, _at={})
        return self._at[location]

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
        for platform in (*registry.platform_names(), None):
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


def policy_dir(directory: str | os.PathLike[str] | None = None,
               paths: PathSettings | None = None) -> Path:
    """The folder given, else MAKERIGHT_POLICY_DIR, else the instance folder's own copy (made
    by `makeright init`), else the bundled policy. `paths` defaults to the environment's."""
    paths = PathSettings.from_env() if paths is None else paths
    chosen = directory or paths.policy_dir
    if chosen:
        return Path(chosen)
    copy = paths.instance / "policy"
    return copy if (copy / "policy.toml").is_file() else DEFAULT_DIR


_CACHE: dict[tuple[Path, float], Policy] = {}


def load_policy(directory: str | os.PathLike[str] | None = None,
                paths: PathSettings | None = None) -> Policy:
    """Load and validate a policy folder; cached until any of its files changes."""
    root = policy_dir(directory, paths).resolve()
    stamp = max((p.stat().st_mtime for p in root.rglob("*") if p.is_file()), default=0.0)
    key = (root, stamp)
    if key not in _CACHE:
        # One entry per folder: several brands stay loaded side by side.
        for stale in [k for k in _CACHE if k[0] == root]:
            del _CACHE[stale]
        from .files import PolicyLoader

        _CACHE[key] = PolicyLoader(root).load()
    return _CACHE[key]


def check_policy(directory: str | os.PathLike[str] | None = None,
                 paths: PathSettings | None = None) -> list[str]:
    """Every problem of a policy folder as `file:key: problem`; empty when it is valid."""
    from .files import PolicyLoader

    try:
        PolicyLoader(policy_dir(directory, paths).resolve()).load()
    except PolicyError as exc:
        return exc.problems
    return []
