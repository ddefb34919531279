"""Text hygiene shared by every way a review comes in and every draft that goes out.

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
INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MARKUP_HINT_RE = re.compile(r"<[a-zA-Z/!][^>]*>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")
_BLOCK_TAGS = ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6")


def strip_invisible(text: str) -> str:
    """Remove invisible and control characters; keep newlines and tabs."""
    return _CONTROL_RE.sub("", INVISIBLE_RE.sub("", text))


def has_invisible(text: str) -> bool:
    return bool(INVISIBLE_RE.search(text) or _CONTROL_RE.search(text))


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
