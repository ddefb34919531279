"""The customer's personal data in free text: e-mail addresses, phone numbers, order numbers.

One set of patterns serves both sides of the same promise: the LLM prompt masks exactly what
the guardrails refuse to see repeated in a public reply, so a number the model never saw cannot
be echoed and a number the guardrails let through is one the model may see.

Every pattern starts only where a token starts, and what it repeats is either bounded or a run
of one character class that ends at a word boundary, so a hostile 20,000-character run of digits
or letters is scanned in linear time.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}", re.UNICODE)
PHONE_RE = re.compile(r"(?<![\w€$£])\+?\(?\d[\d\s().\-/]{5,24}\d(?![\w%])")
# "#48213", "# 48213", "A-12345", "AB12345", or four or more digits on their own (a year is not
# an order number; see `is_year`).
ORDER_RE = re.compile(r"#\s?[A-Z]{0,4}-?\d{4,}\b|\b[A-Z]{0,4}-?\d{4,}\b")
MIN_PHONE_DIGITS = 7
# Phones and order numbers in one pass, a phone first where both could start, so the groups of
# a phone number are never taken for order numbers.
PHONE_OR_ORDER_RE = re.compile(f"(?P<phone>{PHONE_RE.pattern})|(?P<order>{ORDER_RE.pattern})")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def is_year(item: str) -> bool:
    return item.isdigit() and len(item) == 4 and 1990 <= int(item) <= 2100


def phones(text: str) -> list[str]:
    """Runs of digits long enough to be a phone number, as written."""
    return [m.group(0) for m in PHONE_RE.finditer(text)
            if len(digits(m.group(0))) >= MIN_PHONE_DIGITS]


def is_order_number(found: str) -> bool:
    return not is_year(order_key(found))


def order_key(found: str) -> str:
    """An order number as it would be repeated: without the "#" and the space after it, in lower
    case as the guardrails compare it."""
    return found.lstrip("#").strip().lower()


def order_numbers(text: str) -> Iterator[re.Match[str]]:
    """Order numbers in the text; years are left alone."""
    return (m for m in ORDER_RE.finditer(text) if is_order_number(m.group(0)))
