"""Text hygiene shared by every way a review comes in, every draft that goes out, and every log
line that quotes a stranger's words.

Google's comments carry markup, feeds carry HTML entities, and review text is a known carrier of
invisible characters used to smuggle instructions past a human reader. Everything is normalised
here once, so the store, the drafters and the guardrails all see the same plain text.
"""
from __future__ import annotations

import re
import unicodedata
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

# Zero-width and bidi controls, the Unicode "tag" block (used for hidden prompt injection),
# variation selectors, soft hyphen, word joiner and BOM. Newlines and tabs are kept.
INVISIBLE_CHARS = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                   "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
                   "\U000e0000-\U000e007f\U000e0100-\U000e01ef")
INVISIBLE_RE = re.compile(f"[{INVISIBLE_CHARS}]")
CONTROL_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_CONTROL_RE = re.compile(f"[{CONTROL_CHARS}]")
# Both kinds in one class: every draft is checked, and one scan costs half of two.
_HIDDEN_RE = re.compile(f"[{INVISIBLE_CHARS}{CONTROL_CHARS}]")
# A string that still shows something once the above are removed (an id, say): a regular
# expression for schemas, so they can say what the input boundary will refuse.
HAS_VISIBLE = f"^[^\\u0000]*[^\\s\\u0000-\\u001f\\u007f{INVISIBLE_CHARS}][^\\u0000]*$"
_MARKUP_HINT_RE = re.compile(r"<[a-zA-Z/!][^>]*>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")
_BLOCK_TAGS = ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6")


def strip_invisible(text: str) -> str:
    """Remove invisible and control characters; keep newlines and tabs."""
    return _CONTROL_RE.sub("", INVISIBLE_RE.sub("", text))


def has_invisible(text: str) -> bool:
    return _HIDDEN_RE.search(text) is not None


def markup_to_text(text: str) -> str:
    """Turn markup and entities into plain text; plain text passes through untouched.

    Parsing every review with BeautifulSoup would dominate import time, so only text that looks
    like it carries a tag or an entity is parsed.
    """
    if not _MARKUP_HINT_RE.search(text):
        return text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
    return soup.get_text()


def normalise_text(text: str | None) -> str:
    """Plain, NFC-normalised text without markup or invisible characters, trimmed per line."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", markup_to_text(text))
    text = strip_invisible(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [re.sub(r"[ \u00a0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# A log value left unquoted; anything else is quoted and escaped by `quote`.
_BARE = re.compile(r"[A-Za-z0-9_.:/@+-]+")
# Anything that could end a log line, start a forged one, or hide text from the person reading:
# controls (C0 and C1), line and paragraph separators, bidi and zero-width characters, and lone
# surrogates (which could not even be written to a UTF-8 log file).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
                     "\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MAX_VALUE = 300


def quote(value: object) -> str:
    """One log value on one line: bare if it is a plain token, else quoted with everything
    unsafe escaped, so a value sent by a stranger cannot forge or hide a log line."""
    text = "" if value is None else str(value)
    if _BARE.fullmatch(text):
        return text
    text = text[:MAX_VALUE].replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _UNSAFE.sub(lambda m: _NAMED.get(m.group(), f"\\u{ord(m.group()):04x}"),
                             text) + '"'
