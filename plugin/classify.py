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

from .language import detect
from .policy import Policy


@dataclass(frozen=True)
class Classification:
    language: str | None
    language_confidence: float
    categories: list[str] = field(default_factory=list)
    escalation_reasons: list[str] = field(default_factory=list)
    # Where the language came from ("script", "text", "hint:territory", "default"...), and
    # whether the text mixes languages (Hinglish, Arabic with English words).
    language_source: str = "text"
    code_mixed: bool = False
    # Praise words found, and whether anything in the text complains (a complaint word or a
    # problem category that is not a mere topic such as parking).
    praise: bool = False
    complaint: bool = False

    @property
    def praise_only(self) -> bool:
        """Kind words and nothing to put right: thanked, never apologised to."""
        return self.praise and not self.complaint

    @property
    def mixed(self) -> bool:
        return self.praise and self.complaint

    @property
    def escalate(self) -> bool:
        return bool(self.escalation_reasons)


_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
                           "\u064b-\u065f\u0670\u0640]")


def fold(text: str) -> str:
    """Lower-case and strip accents, so "Café" and "cafe" match the same lexicon entry."""
    return _COMBINING_RE.sub("", unicodedata.normalize("NFD", text.casefold()))


def _script_group(term: str) -> str:
    """Japanese, Chinese and Thai are written without spaces, so their terms are found anywhere
    in the text. Arabic words take attached particles ("و" and, "ال" the, "ب" with), so an Arabic
    term may be preceded by one. Everything else matches whole words."""
    for ch in term:
        code = ord(ch)
        if 0x0E00 <= code <= 0x0E7F or 0x3040 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF \
                or 0xFF00 <= code <= 0xFFEF:
            return "unspaced"
        if 0x0600 <= code <= 0x06FF:
            return "arabic"
    return "spaced"


_ARABIC_PARTICLES = r"(?:وال|بال|فال|لل|ال|و|ف|ب|ل|ك)?"
# Endings written onto an Arabic word: feminine, plural, pronouns ("وقحة", "انجرحت", "حسابي").
_ARABIC_ENDINGS = r"(?:ة|ت|تي|ه|ها|هم|ي|ني|نا|ك|كم|وا|ون|ين|ات)?(?!\w)"


def _trie(terms: list[str], word_end: str = r"(?!\w)") -> str:
    trie: dict = {}
    for term in terms:
        stem = term.endswith("*")
        node = trie
        for ch in term.rstrip("*"):
            node = node.setdefault(ch, {})
        node["*" if stem or _script_group(term) == "unspaced" else ""] = True

    def build(node: dict) -> str:
        branches = [(re.escape(ch) if ch != " " else r"\s+") + build(child)
                    for ch, child in sorted(node.items()) if ch not in ("", "*")]
        # Longer continuations first; a whole-word term then needs the word to end here.
        if node.get("*"):
            branches.append("")
        elif node.get(""):
            branches.append(word_end)
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(trie) if trie else ""


def _lexicon_regex(terms: list[str]) -> re.Pattern[str]:
    groups: dict[str, list[str]] = {"spaced": [], "arabic": [], "unspaced": []}
    for term in terms:
        groups[_script_group(term)].append(term)
    parts = []
    if groups["spaced"]:
        parts.append(r"(?<!\w)" + _trie(groups["spaced"]))
    if groups["arabic"]:
        parts.append(r"(?<!\w)" + _ARABIC_PARTICLES + "("
                     + _trie(groups["arabic"], word_end="") + ")" + _ARABIC_ENDINGS)
    if groups["unspaced"]:
        parts.append(_trie(groups["unspaced"]))
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else re.compile(r"(?!x)x")


def _key(term: str) -> str:
    return re.sub(r"\s+", " ", fold(term).strip())


_Entries = tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]


def _frozen(entries: dict[str, dict[str, tuple[str, ...]]]) -> _Entries:
    return tuple((name, tuple((lang, tuple(words)) for lang, words in langs.items()))
                 for name, langs in entries.items())


@lru_cache(maxsize=64)
def _compile_lexicon(entries: _Entries) -> tuple[list[str], dict[str, int],
                                                 dict[str, list[str]], re.Pattern[str]]:
    """Compiled once per distinct word list: every policy loaded from the same files (each
    request's, each location's, each test's) shares one regex, which takes about half a second
    to build."""
    names = [name for name, _ in entries]
    owners: dict[str, list[str]] = {}
    terms: set[str] = set()
    for name, langs in entries:
        for _, words in langs:
            for term in words:
                key = _key(term)
                terms.add(key)
                found = owners.setdefault(key.rstrip("*"), [])
                if name not in found:
                    found.append(name)
    return names, {name: i for i, name in enumerate(names)}, owners, _lexicon_regex(sorted(terms))


class Lexicon:
    """A compiled lexicon: name -> {language: [terms]}, searched in one regex pass.

    A term matches whole words ("bug" does not find "buggy", "moho" does not find "mohon");
    a term ending in `*` is a stem and matches any word it starts ("discriminat*").
    """

    def __init__(self, entries: dict[str, dict[str, tuple[str, ...]]]):
        self.names, self.order, self.owners, self.pattern = _compile_lexicon(_frozen(entries))

    def match(self, folded_text: str) -> list[str]:
        """Names found in the text, most mentioned first, then in lexicon order."""
        counts: Counter[str] = Counter()
        for found in self.pattern.finditer(folded_text):
            term = found.group(1) or found.group(0) if self.pattern.groups else found.group(0)
            for name in self.owners.get(" ".join(term.split()), ()):
                counts[name] += 1
        if len(counts) < 2:
            return list(counts)
        return sorted(counts, key=lambda n: (-counts[n], self.order[n]))


def detect_language(text: str, hint: str | None = None,
                    languages: tuple[str, ...] = ()) -> tuple[str | None, float]:
    """The language of a text and the confidence; `hint` is used only when the text cannot tell."""
    found = detect(text, languages, declared=hint)
    return found.language, found.confidence


class Classifier:
    """Compiled once per policy; `classify` is the hot path of drafting and import."""

    def __init__(self, policy: Policy):
        self.languages = tuple(policy.languages)
        self.default_language = policy.default_language
        self.categories = Lexicon(policy.categories)
        self.escalation = Lexicon({name: policy.escalation_lexicon[name]
                                   for name in policy.escalation_triggers})
        self.sentiment = Lexicon({name: policy.sentiment[name] for name in ("praise", "complaint")
                                  if name in policy.sentiment})
        self.topics = frozenset(policy.sentiment.get("topics", {}).get("all", ()))

    def classify(self, review: Review) -> Classification:
        text = review.full_text
        found = detect(text, self.languages, review.language, review.metadata,
                       self.default_language)
        folded = fold(text)
        categories = self.categories.match(folded)
        tone = self.sentiment.match(folded)
        # Parking or toilets mentioned in a low rating are a complaint; in a 5-star review
        # ("clean toilets, easy parking") only when complaint words say so.
        complaint = "complaint" in tone or any(c not in self.topics or review.rating <= 3
                                               for c in categories)
        return Classification(
            language=found.language,
            language_confidence=found.confidence,
            language_source=found.source,
            code_mixed=found.code_mixed,
            categories=categories,
            escalation_reasons=self.escalation.match(folded),
            praise="praise" in tone,
            complaint=complaint,
        )


def classifier_for(policy: Policy) -> Classifier:
    """The compiled classifier of a policy, built once per policy object."""
    return policy.compiled("classifier", Classifier)
