"""Checks of a reply's quality that need no person: is every sentence in one language, does it
apologise, does it name the customer's problem. Used by the evaluation; they judge the text a
customer would read, whichever engine wrote it.

The language check needs no hand-made word lists: each template language's vocabulary is every
word its templates and offers use, so a word that only another language's templates use (an
English offer inside a German sentence) shows up as foreign.
"""
from __future__ import annotations

import re

from .classify import fold
from .policy import Policy

_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE = re.compile(r"(?<=[.!?。！？؟])\s*|\n+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(fold(text)))


def _vocabularies(policy: Policy) -> dict[str, frozenset[str]]:
    return policy.compiled("vocabularies", _build_vocabularies)


def _build_vocabularies(policy: Policy) -> dict[str, frozenset[str]]:
    vocab: dict[str, set[str]] = {}
    for language, template in policy.templates.items():
        words = vocab.setdefault(language, set())
        for text in template.strings.values():
            words |= _words(re.sub(r"\{\w+\}", " ", text))
        for options in (*template.lists.values(), *template.problems.values()):
            for text in options:
                words |= _words(re.sub(r"\{\w+\}", " ", text))
    for offer in policy.offers:
        for language, text in offer.gives.items():
            vocab.setdefault(language, set()).update(_words(re.sub(r"\{\w+\}", " ", text)))
    return {language: frozenset(words) for language, words in vocab.items()}


def foreign_words(policy: Policy, text: str, language: str,
                  ignore: str = "") -> list[tuple[str, list[str]]]:
    """Sentences of a reply in `language` holding words that only other template languages
    use, with those words. `ignore` holds names and contact details that belong to no
    language (the brand, the reviewer's name, the sign-off)."""
    vocab = _vocabularies(policy)
    own = vocab.get(language, frozenset())
    others = frozenset().union(*(v for lang, v in vocab.items() if lang != language))
    skip = _words(ignore)
    found = []
    for sentence in _SENTENCE.split(text):
        strange = sorted(w for w in _words(sentence) - skip
                         if w not in own and w in others and len(w) > 1)
        if strange:
            found.append((sentence.strip(), strange))
    return found


def apologises(policy: Policy, text: str, language: str) -> bool:
    """Whether the reply says sorry, by the apology words of its language's template."""
    template = policy.templates.get(language)
    words = template.lists.get("sorry_words", ()) if template else ()
    folded = fold(text)
    for word in words:
        key = fold(word)
        if re.search(r"[\u3040-\u9fff]", key):
            if key in folded:
                return True
        elif re.search(r"(?<!\w)" + re.escape(key) + r"(?!\w)", folded):
            return True
    return False


def names_problem(policy: Policy, text: str, language: str, categories: list[str]) -> bool:
    """Whether the reply names one of the categories in its language's own words."""
    template = policy.templates.get(language)
    if template is None:
        return False
    folded = fold(text)
    return any(fold(phrase) in folded for category in categories
               for phrase in template.problems.get(category, ()))
