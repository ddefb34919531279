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


# Scripts whose terms are matched by their own patterns, run only on texts that contain them:
# trying an Arabic or an unspaced term at every position of a Latin text costs three times the
# Latin search itself.
_ARABIC_TEXT = re.compile("[\u0600-\u06ff]")
_UNSPACED_TEXT = re.compile("[\u0e00-\u0e7f\u3040-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class _Search:
    """One script group's pattern; `gate`, when set, must find a character first.
    `term_group` is the group holding the term itself (Arabic terms carry particles)."""

    pattern: re.Pattern[str]
    gate: re.Pattern[str] | None = None
    term_group: int = 0


def _lexicon_searches(terms: list[str]) -> tuple[_Search, ...]:
    groups: dict[str, list[str]] = {"spaced": [], "arabic": [], "unspaced": []}
    for term in terms:
        groups[_script_group(term)].append(term)
    searches = []
    if groups["spaced"]:
        searches.append(_Search(re.compile(r"(?<!\w)" + _trie(groups["spaced"]))))
    if groups["arabic"]:
        searches.append(_Search(re.compile(r"(?<!\w)" + _ARABIC_PARTICLES + "("
                                           + _trie(groups["arabic"], word_end="") + ")"
                                           + _ARABIC_ENDINGS), _ARABIC_TEXT, 1))
    if groups["unspaced"]:
        searches.append(_Search(re.compile(_trie(groups["unspaced"])), _UNSPACED_TEXT))
    return tuple(searches)


def _key(term: str) -> str:
    return re.sub(r"\s+", " ", fold(term).strip())


_Entries = tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]


def _frozen(entries: dict[str, dict[str, tuple[str, ...]]]) -> _Entries:
    return tuple((name, tuple((lang, tuple(words)) for lang, words in langs.items()))
                 for name, langs in entries.items())


@lru_cache(maxsize=64)
def _compile_lexicon(entries: _Entries) -> tuple[list[str], dict[str, int],
                                                 dict[str, list[str]], tuple[_Search, ...]]:
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
    order = {name: i for i, name in enumerate(names)}
    return names, order, owners, _lexicon_searches(sorted(terms))


class Lexicon:
    """A compiled lexicon: name -> {language: [terms]}, searched in one regex pass.

    A term matches whole words ("bug" does not find "buggy", "moho" does not find "mohon");
    a term ending in `*` is a stem and matches any word it starts ("discriminat*").
    """

    def __init__(self, entries: dict[str, dict[str, tuple[str, ...]]]):
        self.names, self.order, self.owners, self.searches = _compile_lexicon(_frozen(entries))

    def match(self, folded_text: str) -> list[str]:
        """Names found in the text, most mentioned first, then in lexicon order."""
        counts: Counter[str] = Counter()
        for search in self.searches:
            if search.gate is not None and search.gate.search(folded_text) is None:
                continue
            for found in search.pattern.finditer(folded_text):
                term = found.group(search.term_group)
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
