"""What a review is about, offline: its language, its problem categories, and escalation reasons.

Lexicons come from the policy folder so a business can extend them. All of a lexicon's words,
in every language, are compiled into one trie-shaped regular expression, so one pass over the
text finds every match; that keeps classification well under a millisecond per review.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from connectors.base import Review

from .policy import Policy

# Languages the detector chooses between. Restricting the set makes short texts far more
# reliable than an open-world guess; languages without templates still fall back cleanly.
DETECTABLE = ("en", "es", "de", "fr", "pt", "it", "nl")
MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Classification:
    language: str | None
    language_confidence: float
    categories: list[str] = field(default_factory=list)
    escalation_reasons: list[str] = field(default_factory=list)

    @property
    def escalate(self) -> bool:
        return bool(self.escalation_reasons)


_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower-case and strip accents, so "Café" and "cafe" match the same lexicon entry."""
    return _COMBINING_RE.sub("", unicodedata.normalize("NFD", text.casefold()))


def _trie_regex(terms: list[str]) -> re.Pattern[str]:
    trie: dict = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict) -> str:
        end = node.get("") is True
        branches = [(re.escape(ch) if ch != " " else r"\s+") + build(child)
                    for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else f"{body}?"
        return body

    return re.compile(r"(?<!\w)(?:" + build(trie) + ")") if trie else re.compile(r"(?!x)x")


class Lexicon:
    """A compiled lexicon: name -> {language: [terms]}, searched in one regex pass."""

    def __init__(self, entries: dict[str, dict[str, tuple[str, ...]]]):
        self.names = list(entries)
        self.owners: dict[str, list[str]] = {}
        for name, langs in entries.items():
            for terms in langs.values():
                for term in terms:
                    key = re.sub(r"\s+", " ", fold(term).strip())
                    owners = self.owners.setdefault(key, [])
                    if name not in owners:
                        owners.append(name)
        self.pattern = _trie_regex(sorted(self.owners))

    def match(self, folded_text: str) -> list[str]:
        """Names found in the text, most mentioned first, then in lexicon order."""
        counts: Counter[str] = Counter()
        for found in self.pattern.finditer(folded_text):
            for name in self.owners.get(re.sub(r"\s+", " ", found.group(0)), ()):
                counts[name] += 1
        return sorted(counts, key=lambda n: (-counts[n], self.names.index(n)))


@lru_cache(maxsize=1)
def _detector():
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
                 for code in DETECTABLE]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def detect_language(text: str, hint: str | None = None) -> tuple[str | None, float]:
    """The language the text is written in, with the detector's confidence.

    A declared language (from an integrator) is used only when the text is too short or too
    ambiguous to tell; a platform's device language is never passed here.
    """
    hint = hint.split("-")[0].lower() if hint else None
    letters = sum(ch.isalpha() for ch in text)
    if letters < 3:
        return hint, 0.0
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return hint, 0.0
    top = values[0]
    code = top.language.iso_code_639_1.name.lower()
    if top.value < MIN_CONFIDENCE and hint:
        return hint, top.value
    return code, round(top.value, 3)


class Classifier:
    """Compiled once per policy; `classify` is the hot path of drafting and import."""

    def __init__(self, policy: Policy):
        self.categories = Lexicon(policy.categories)
        self.escalation = Lexicon({name: policy.escalation_lexicon[name]
                                   for name in policy.escalation_triggers})

    def classify(self, review: Review) -> Classification:
        text = review.full_text
        language, confidence = detect_language(text, review.language)
        folded = fold(text)
        return Classification(
            language=language,
            language_confidence=confidence,
            categories=self.categories.match(folded),
            escalation_reasons=self.escalation.match(folded),
        )


_LAST: list[tuple[Policy, Classifier]] = []


def classifier_for(policy: Policy) -> Classifier:
    """The compiled classifier of a policy; recompiled only when the policy object changes."""
    if not _LAST or _LAST[0][0] is not policy:
        _LAST[:] = [(policy, Classifier(policy))]
    return _LAST[0][1]
