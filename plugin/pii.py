"""The customer's personal data in free text: e-mail addresses, phone numbers, order numbers,
bank accounts (IBAN).

One reading serves both sides of the same promise: `personal_data` is what the LLM prompt masks
and exactly what the guardrails refuse to see repeated in a public reply, so a number the model
never saw cannot be echoed and a number the guardrails let through is one the model may see.
It reads the text once, left to right, each stretch as one kind: the groups of a phone number
or an IBAN are never also taken for order numbers.

Every pattern starts only where a token starts, and what it repeats is either bounded or a run
of one character class that ends at a word boundary, so a hostile 20,000-character run of digits
or letters is scanned in linear time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}", re.UNICODE)
PHONE_RE = re.compile(r"(?<![\w€$£])\+?\(?\d[\d\s().\-/]{5,24}\d(?![\w%])")
# "#48213", "# 48213", "A-12345", "AB12345", or four or more digits on their own (a year is not
# an order number; see `is_year`).
ORDER_RE = re.compile(r"#\s?[A-Z]{0,4}-?\d{4,}\b|\b[A-Z]{0,4}-?\d{4,}\b")
MIN_PHONE_DIGITS = 7
# "DE89 3704 0044 0532 0130 00" or "GB29NWBK60161331926819": country, check digits, then up to
# 30 letters and digits, grouped by four when written for people.
IBAN_RE = re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?!\w)")
# Every kind in one pass, the most specific first where two could start at one place.
PERSONAL_RE = re.compile(f"(?P<email>{EMAIL_RE.pattern})|(?P<iban>{IBAN_RE.pattern})|"
                         f"(?P<phone>{PHONE_RE.pattern})|(?P<order>{ORDER_RE.pattern})")


@dataclass(frozen=True)
class Personal:
    """One piece of personal data: its kind (email, iban, phone, order) and where it stands."""

    kind: str
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        """How a reply repeating it is recognised: an address in lower case, a phone number or
        an IBAN by its digits (however it is spaced), an order number by `order_key`."""
        if self.kind == "email":
            return self.text.lower()
        if self.kind == "order":
            return order_key(self.text)
        return digits(self.text)


def personal_data(text: str) -> list[Personal]:
    """Everything in `text` that identifies a customer. A run of digits too short for a phone
    number is nothing (not an order number either); a year is never an order number."""
    found = []
    for match in PERSONAL_RE.finditer(text):
        kind, value = match.lastgroup or "", match.group(0)
        if kind == "phone" and len(digits(value)) < MIN_PHONE_DIGITS:
            continue
        if kind == "order" and not is_order_number(value):
            continue
        found.append(Personal(kind, value, match.start(), match.end()))
    return found


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
