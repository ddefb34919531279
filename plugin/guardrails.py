"""Code, not the prompt, decides what a public reply may say.

Every draft — offline, from a model, or typed by a person — passes through `check` before it can
be approved, and again before it is posted. Each rule returns a Violation with a stable code
(reports and tests key on it) and a message a community manager understands.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import Review
from connectors.text import has_invisible

from . import money
from .classify import Classification, classifier_for, fold
from .drafts import Draft, Violation
from .pii import EMAIL_RE, personal_data
from .pii import digits as _digits
from .pii import is_year as _is_year
from .pii import phones as _phones
from .policy import Policy

# Every pattern starts only where a token starts and repeats a bounded number of times, so a
# hostile 20,000-character run of digits or letters is scanned in linear time.
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.I)
_TLDS = ("com|net|org|io|co|app|dev|info|biz|example|shop|store|xyz|me|ly|gg|eu|uk|us|de|es"
         "|fr|pt|it|nl|br|ca|au|ie|be|ch|at|mx|ar")
_DOMAIN_RE = re.compile(rf"(?<![\w@.-])((?:[a-z0-9-]+\.)+(?:{_TLDS}))(?![\w-])", re.I)
_DIGIT_RE = re.compile(r"\d")
_MARKUP_RE = re.compile(
    r"<[a-zA-Z/!][^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});|!?\[[^\]]*\]\([^)]*\)"
    r"|javascript:|\*\*[^*]+\*\*|^#{1,6} ", re.M)
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "eur": "EUR", "usd": "USD", "gbp": "GBP",
            "euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "dolares": "USD",
            "dólares": "USD", "pound": "GBP", "pounds": "GBP", "libras": "GBP", "r$": "BRL"}
_NUM = r"(?<![\d.,])(\d{1,3}(?:[.,\s]\d{3}){0,5}(?:[.,]\d{1,2})?|\d{1,15}(?:[.,]\d{1,2})?)"
_CUR_WORDS = (r"€|\$|£|R\$|EUR|USD|GBP|euros?|dollars?|d[oó]lares|pounds?|libras")
_PERCENT_RE = re.compile(
    rf"{_NUM}\s?(%|percent|per cent|por ciento|prozent|pour cent|por cento)", re.I)
# Turkish writes the sign first: "%20".
_PERCENT_BEFORE_RE = re.compile(rf"%\s?{_NUM}")
# What each pattern cannot match without, found by plain substring searches that cost a
# fraction of a regular-expression scan: most replies hold none of them and skip the scan.
_MARKUP_MARKS = ("<", "&", "[", "javascript:", "**", "#")
_URL_MARKS = ("://", "www.")
_PERCENT_MARKS = ("%", "per", "por", "pour", "prozent")
_DOMAIN_HINT_RE = re.compile(r"\.[a-z]", re.I)


def check(draft: Draft, review: Review, policy: Policy,
          classification: Classification | None = None) -> list[Violation]:
    """All guardrail violations of a draft for a review on its platform."""
    text = draft.text
    if classification is None:
        classification = classifier_for(policy).classify(review)
    escalated = classification.escalate or draft.escalate
    found: list[Violation] = []
    if not text.strip():
        return [Violation("empty", "The reply is empty.")]
    used, limit, unit = draft.length
    if used > limit:
        found.append(Violation("too_long", f"The reply is {used} {unit}; {draft.platform} allows "
                                           f"{limit} {unit}."))
    rules = _rules(policy)
    folded = fold(text)
    found += _offer_rules(draft, review, policy, classification, escalated, rules, folded)
    for phrase, key in rules.banned:
        if key in folded:
            found.append(Violation("banned_phrase", f"Contains the banned phrase “{phrase}”."))
    found += _contact_rules(text, review, policy, rules)
    if any(mark in text for mark in _MARKUP_MARKS) and _MARKUP_RE.search(text):
        found.append(Violation("markup", "Contains HTML, markdown or script; replies are plain "
                                         "text."))
    if has_invisible(text):
        found.append(Violation("invisible_chars", "Contains invisible or control characters."))
    return found


def _offer_rules(draft: Draft, review: Review, policy: Policy, classification: Classification,
                 escalated: bool, rules: _Rules, folded: str) -> list[Violation]:
    found: list[Violation] = []
    offer = draft.offer
    if offer is not None:
        if escalated:
            found.append(Violation("offer_on_escalation",
                                   f"Offers “{offer.label}” on a review that must be escalated "
                                   "to a person."))
        else:
            allowed = policy.allowed_offers(review.rating, classification.categories, False)
            if policy.offer(offer.id) != offer or offer not in allowed:
                names = ", ".join(o.id for o in allowed) or "none"
                found.append(Violation("offer_not_allowed",
                                       f"The offer “{offer.id}” is not allowed for this review "
                                       f"(allowed: {names})."))
    has_digits = _DIGIT_RE.search(draft.text) is not None
    money_possible = has_digits and rules.currency_hint.search(draft.text) is not None
    for currency, amount in _money(draft.text, rules) if money_possible else ():
        if offer is None or offer.kind != "money":
            found.append(Violation("amount_not_offered",
                                   f"Mentions {amount} {currency}, but the reply makes no money "
                                   "offer."))
        elif currency != offer.currency or offer.cap is None or amount > offer.cap:
            found.append(Violation("offer_over_cap",
                                   f"Mentions {amount} {currency}; the offer “{offer.id}” allows "
                                   f"at most {offer.cap} {offer.currency}."))
    percent_possible = has_digits and any(m in draft.text.lower() for m in _PERCENT_MARKS)
    for percent in _percents(draft.text) if percent_possible else ():
        if offer is None or offer.kind != "percent":
            found.append(Violation("amount_not_offered",
                                   f"Mentions {percent}%, but the reply makes no percentage "
                                   "offer."))
        elif offer.percent is None or percent > offer.percent:
            found.append(Violation("offer_over_cap",
                                   f"Mentions {percent}%; the offer “{offer.id}” allows at most "
                                   f"{offer.percent}%."))
    own_words = rules.offer_words.get(offer.id, "") if offer else ""
    for match in rules.promises.finditer(folded):
        if match.group(0) not in own_words:
            found.append(Violation("unlisted_promise", f"Promises “{match.group(0)}”, which is "
                                                       "not part of the chosen offer."))
            break
    return found


@dataclass(frozen=True)
class _Rules:
    """A policy's word lists, folded and compiled once instead of on every check."""

    banned: tuple[tuple[str, str], ...]
    promises: re.Pattern[str]
    offer_words: dict[str, str]
    money_before: re.Pattern[str]
    money_after: re.Pattern[str]
    # Any currency sign or word, without the amount: an amount cannot be money without one.
    currency_hint: re.Pattern[str]
    symbols: dict[str, str]
    # The business's own contact details, which a reply may give.
    own_emails: frozenset[str]
    own_phones: frozenset[str]
    # The same addresses as the policy writes them, which is how drafts carry them.
    own_written: tuple[str, ...]


def _rules(policy: Policy) -> _Rules:
    return policy.compiled("guardrail_rules", _build_rules)


def _build_rules(policy: Policy) -> _Rules:
    # No word boundary: German compounds ("Kulanzgutschein") must not slip through.
    words = {fold(w) for w in policy.promise_words} - {""}
    promises = re.compile(_longest_first(words) if words else r"(?!x)x")
    return _Rules(
        banned=tuple((p, fold(p)) for p in policy.banned_phrases),
        promises=promises,
        offer_words={o.id: fold(" ".join(o.gives.values())) for o in policy.offers},
        **_money_patterns(policy),
        **_own_contacts(policy),
    )


def _longest_first(words: set[str]) -> str:
    """The words as one regex that finds the longest of them at each position, written as a
    tree of shared prefixes: a flat alternation of a hundred words is tried word by word at
    every character of every reply, the tree rejects most positions on their first letter."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + pattern(child)
                    for char, child in sorted(node.items()) if char]
        if "" in node:
            branches.append("")
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return pattern(tree)


def _money_patterns(policy: Policy) -> dict[str, Any]:
    """Amounts in the currencies of the policy's offers, however its languages write them
    (₹, "50 INR", "12,50 $US"), besides the common ones, so an amount in the policy's own
    currency is checked against its cap whatever the reply language."""
    symbols = dict(_SYMBOLS)
    for offer in policy.offers:
        if offer.kind == "money" and offer.currency:
            for symbol in money.symbols(offer.currency, policy.languages):
                symbols[symbol.lower()] = offer.currency
    extra = sorted((s for s in symbols if s not in _SYMBOLS), key=len, reverse=True)
    cur = "(" + "|".join([*map(re.escape, extra), _CUR_WORDS]) + ")"
    return {"money_before": re.compile(rf"(?<![\w]){cur}\s?{_NUM}", re.I),
            "money_after": re.compile(rf"{_NUM}\s?{cur}(?![\w])", re.I),
            "currency_hint": re.compile(cur, re.I),
            "symbols": symbols}


def _own_contacts(policy: Policy) -> dict[str, Any]:
    voices = [policy.voice_for(p) for p in policy.platforms]
    emails = (policy.contact.get("email", ""), *(v.email for v in voices))
    phones = (policy.contact.get("phone", ""), *(v.phone for v in voices))
    return {"own_emails": frozenset(e.lower() for e in emails if e),
            "own_phones": frozenset(_digits(p) for p in phones if p),
            "own_written": tuple(sorted({e for e in emails if e and "@" in e}, key=len,
                                        reverse=True))}


def _contact_rules(text: str, review: Review, policy: Policy, rules: _Rules) -> list[Violation]:
    found: list[Violation] = []
    own_emails, own_phones = rules.own_emails, rules.own_phones
    without_emails = _without_own_emails(text, rules.own_written) if "@" in text else text
    if without_emails is None:
        for email in EMAIL_RE.findall(text):
            if email.lower().rstrip(".") not in own_emails:
                found.append(Violation("email", f"Contains the email address {email}, which is "
                                                "not the policy's contact."))
        without_emails = EMAIL_RE.sub(" ", text)
    for phone in _phones(text) if _DIGIT_RE.search(text) else ():
        if _digits(phone) not in own_phones:
            found.append(Violation("phone", f"Contains the phone number {phone.strip()}, which is "
                                            "not the policy's contact."))
    lowered = without_emails.lower()
    hosts = []
    if any(mark in lowered for mark in _URL_MARKS):
        hosts += [_host(u) for u in _URL_RE.findall(without_emails)]
        without_urls = _URL_RE.sub(" ", without_emails)
    else:
        without_urls = without_emails
    if _DOMAIN_HINT_RE.search(without_urls):
        hosts += [d for d in _DOMAIN_RE.findall(without_urls)]
    for host in hosts:
        if not _allowed_host(host, policy.link_domains):
            found.append(Violation("link", f"Links to {host}, which is not an allowed domain."))
    personal = _personal_data(review) - own_emails - own_phones
    if not personal:
        return found
    lowered, digits = text.lower(), _digits(text)
    for item in sorted(personal):
        if item in lowered or (item.isdigit() and item in digits):
            found.append(Violation("pii_echo", f"Repeats personal data from the review "
                                               f"({_mask(item)}); keep it out of public replies."))
    return found


_EMAIL_CHAR_RE = re.compile(r"[\w.+-]")
_LABEL_CHAR_RE = re.compile(r"[\w-]")


def _without_own_emails(text: str, own: tuple[str, ...]) -> str | None:
    """The text with the policy's own addresses blanked out, as the e-mail pattern would blank
    them, when those are its only addresses; None when anything else could be one.

    Offline drafts carry the policy's address in nearly every reply; finding it by plain search
    spares scanning each reply with the e-mail pattern. An occurrence counts only when it
    stands alone: "xcare@shop.example.com" is someone else's address."""
    for address in own:
        start = text.find(address)
        while start >= 0:
            end = start + len(address)
            before = text[start - 1:start]
            after = text[end:end + 2]
            # The pattern would take a longer address: one more character before, another
            # character or label after.
            if _EMAIL_CHAR_RE.match(before) or _LABEL_CHAR_RE.match(after) \
                    or (after[:1] == "." and _LABEL_CHAR_RE.match(after[1:])):
                return None
            text = text[:start] + " " + text[end:]
            start = text.find(address, start + 1)
    return None if "@" in text else text


def _money(text: str, rules: _Rules) -> list[tuple[str, Decimal]]:
    found = []
    for match in rules.money_before.finditer(text):
        found.append((rules.symbols[match.group(1).lower()], _amount(match.group(2))))
    for match in rules.money_after.finditer(text):
        found.append((rules.symbols[match.group(2).lower()], _amount(match.group(1))))
    return [(c, a) for c, a in found if a is not None]


def _percents(text: str) -> list[Decimal]:
    matches = [*_PERCENT_RE.finditer(text), *_PERCENT_BEFORE_RE.finditer(text)]
    return [a for a in (_amount(m.group(1)) for m in matches) if a is not None]


def _amount(raw: str) -> Decimal | None:
    raw = raw.replace(" ", "")
    if re.search(r"[.,]\d{1,2}$", raw):
        whole, frac = raw[:-3 if raw[-3] in ".," else -2], raw[-2:].lstrip(".,")
        raw = re.sub(r"[.,]", "", whole) + "." + frac
    else:
        raw = re.sub(r"[.,]", "", raw)
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def _host(url: str) -> str:
    url = re.sub(r"^(?:https?://)", "", url, flags=re.I)
    return re.split(r"[/:?#]", url, maxsplit=1)[0].lower().rstrip(".")


def _allowed_host(host: str, domains: tuple[str, ...]) -> bool:
    host = host.lower().removeprefix("www.")
    return any(host == d or host.endswith("." + d) for d in domains)


def _personal_data(review: Review) -> set[str]:
    """Things in the review that identify the customer and must not be repeated publicly."""
    text = review.full_text
    if "@" not in text and not _enough_digits(text, 4):
        return set()  # Every kept item is an address or holds at least four digits.
    items = {item.key for item in personal_data(text)}
    return {i for i in items if len(i) >= 4 and not _is_year(i)}


def _enough_digits(text: str, least: int) -> bool:
    """Whether the text holds at least `least` digits of any script (phone numbers may be
    written in Arabic-Indic digits); ASCII text is counted without a regular expression."""
    if text.isascii():
        return sum(map(text.count, "0123456789")) >= least
    return len(_DIGIT_RE.findall(text)) >= least


def _mask(item: str) -> str:
    return item[:2] + "…" + item[-2:] if len(item) > 6 else "…"

