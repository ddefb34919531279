"""Amounts in a reply, written the way the reply's language writes them (Babel's CLDR data).

The currency is always the offer's own, never the language's: a rupee offer in a German reply
is "50 ₹", not "50 €". Whole amounts drop their decimals ("€6", not "€6.00"), because a reply
reads like a person wrote it. Direction marks that CLDR puts around Arabic amounts are removed:
the guardrails refuse invisible characters in a reply.
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_percent, get_currency_symbol

_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c"), None)


@lru_cache(maxsize=64)
def locale_for(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


def _clean(text: str) -> str:
    # No-break spaces become plain spaces: the drafter's length counts and the guardrails'
    # number patterns treat a space as a space.
    return text.replace("\u00a0", " ").replace("\u202f", " ").translate(_MARKS).strip()


# An offer's amount is written into every reply that makes it: formatted once per language.
@lru_cache(maxsize=1024)
def money(amount: Decimal, currency: str, language: str) -> str:
    locale = locale_for(language)
    pattern = locale.currency_formats["standard"].pattern
    if amount == amount.to_integral_value():
        pattern = pattern.split(";")[0].replace(".00", "")
        amount = amount.to_integral_value()
    return _clean(format_currency(amount, currency, format=pattern, locale=locale,
                                  currency_digits=False))


@lru_cache(maxsize=1024)
def percent(value: Decimal, language: str) -> str:
    return _clean(format_percent(value / 100, locale=locale_for(language)))


def symbols(currency: str, languages: tuple[str, ...]) -> set[str]:
    """Every way the given languages write this currency, for the guardrails to recognise."""
    found = {currency}
    for language in (*languages, "en"):
        found.add(get_currency_symbol(currency, locale=locale_for(language)))
    return {s for s in found if s}
