"""The offline drafter: deterministic replies from the policy's templates, no network.

Good enough to post: it greets by name, names the specific problem, apologises without excuses,
makes the policy's offer, points to the contact channel and signs off. Phrasing varies per review
(chosen by a hash of its identity), so similar reviews do not receive copies, and the same review
always gets the same draft.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from connectors.base import Review, reply_length

from ..classify import Classification
from ..drafts import Draft
from ..language import LANGUAGE_NAMES
from ..policy import Offer, Policy, Template, Voice

# Slots a reply can lose, first to last, when it must fit a short platform limit.
_OPTIONAL = ("closing", "acknowledge", "praise_closing", "liked", "praise_problem", "concern",
             "greeting", "escalation_contact")


class OfflineDrafter:
    name = "offline"

    def draft(self, review: Review, policy: Policy, classification: Classification,
              instruction: str | None = None) -> Draft:
        language, note = reply_language(policy, classification)
        template = policy.templates[language]
        voice = policy.voice_for(review.platform)
        pick = _Picker(f"{review.platform}:{review.external_id}")
        offer = None
        lists = template.lists
        if classification.escalate:
            self_harm = "self_harm" in classification.escalation_reasons \
                and "escalation_self_harm" in lists
            # Someone in distress gets the plainest invitation, not a varied one.
            reason = classification.escalation_reasons[0]
            concern = lists.get(f"concern:{reason}") if not self_harm else None
            slots = {"escalation": pick("escalation", lists["escalation_self_harm" if self_harm
                                                            else "escalation"]),
                     # What this person went through, acknowledged in words fit for it.
                     "concern": pick("concern", concern) if concern else "",
                     "escalation_contact": lists["escalation_contact"][0] if self_harm
                     else pick("escalation_contact", lists["escalation_contact"])}
        elif review.rating >= 4:
            slots = {"praise": pick("praise", lists["praise"])}
            if classification.categories and classification.complaint:
                slots["praise_problem"] = pick("praise_problem", lists["praise_problem"])
            slots["praise_closing"] = pick("praise_closing", lists["praise_closing"])
        elif classification.praise_only and "praise_low" in lists:
            # Kind words with a low rating: nothing to apologise for; ask what was missing.
            slots = {"praise_low": pick("praise_low", lists["praise_low"]),
                     "contact": pick("contact", lists["contact"])}
        else:
            offer = choose_offer(policy, review.rating, classification.categories)
            rating_only = not review.full_text.strip() and "rating_only" in lists
            slots = {
                "liked": pick("liked", lists["liked"])
                if classification.mixed and "liked" in lists else "",
                "apology": pick("apology", lists["rating_only" if rating_only else "apology"]),
                "acknowledge": "" if rating_only else pick("acknowledge", lists["acknowledge"]),
                "offer": pick("offer", lists["offer"]) if offer
                else pick("no_offer", lists["no_offer"]),
                "contact": pick("contact", lists["contact"]),
                "closing": pick("closing", lists["closing"]),
            }
        name = greeting_name(review, language)
        slots = {"greeting": pick("greeting", lists["greeting"]) if name
                 else pick("greeting_anonymous", lists["greeting_anonymous"]), **slots}
        values = {
            "name": name,
            "brand": voice.brand,
            "problem": _problem(template, classification.categories, pick),
            "offer": _offer_words(offer, template) if offer else "",
            "contact": _contact(template, voice),
        }
        shorter = bool(instruction and "short" in instruction.lower())
        filled = {slot: _capitalise(text.format(**values), language)
                  for slot, text in slots.items() if not (shorter and slot in _OPTIONAL[:3])}
        text = _compose(filled, _voice_in(voice, template, policy), review.platform, language)
        return Draft(
            text=text, engine=self.name, language=language, platform=review.platform,
            review_language=classification.language, categories=classification.categories,
            escalation_reasons=classification.escalation_reasons, offer=offer, note=note,
        )


def choose_offer(policy: Policy, rating: int, categories: list[str]) -> Offer | None:
    """The first offer made for exactly this kind of problem; a general one only when the
    problem is known, because a remedy for an unknown failure is a guess."""
    if not categories:
        return None
    allowed = policy.allowed_offers(rating, categories, escalated=False)
    specific = [o for o in allowed if o.categories]
    return next(iter(specific or allowed), None)


def reply_language(policy: Policy, classification: Classification) -> tuple[str, str]:
    """The language to answer in, and a note for the approver whenever it is not simply the
    review's own language: a fallback is always said, never hidden."""
    detected = classification.language
    fallback = policy.default_language
    answers = set(policy.languages) & set(policy.templates)
    if classification.language_source == "default":
        return fallback, (f"Language unclear (text too short or too mixed to tell), answered "
                          f"in {language_name(fallback)}.")
    if detected and detected in answers:
        return detected, ""
    fallback_name = language_name(fallback)
    if detected:
        name = language_name(detected)
        why = f"no {name} templates" if detected not in policy.templates \
            else f"{name} is not among the policy's languages"
        if classification.language_source == "romanized":
            name, why = "Hinglish / Roman Urdu", "no Hindi or Urdu templates"
        return fallback, f"{name} review, answered in {fallback_name}: {why}."
    return fallback, ""


def language_name(code: str) -> str:
    """The English name of a language code, for notes to the approver."""
    return LANGUAGE_NAMES.get(code, code)


_NOT_NAMES = frozenset([
    "the", "a", "an", "mr", "mrs", "ms", "miss", "dr", "sir", "madam", "user", "guest",
    "customer", "client", "admin", "official", "team", "family", "mom", "mum", "dad", "kak",
    "bapak", "ibu", "pak", "bu", "bang", "mas", "mbak"
])
_UNSPACED = frozenset(("ja", "zh", "th"))
_LATIN_REPLY = frozenset(("en", "es", "de", "fr", "pt", "it", "nl", "id", "tr"))


def greeting_name(review: Review, language: str) -> str:
    """The reviewer's first name fit to greet, or "" for an anonymous greeting.

    Platforms hand over display names as typed: ALL-CAPS, handles, "The Smiths", a name in
    another script than the reply. Each is normalised or left out; a wrong greeting is worse
    than none.
    """
    name = review.first_name
    if not name or name.casefold() in _NOT_NAMES or any(ch.isdigit() for ch in name):
        return ""
    scripts = {_name_script(ch) for ch in name if ch.isalpha()}
    if language in _LATIN_REPLY and scripts != {"latin"}:
        return ""
    if language == "ar" and scripts != {"arabic"}:
        return ""
    if language == "ja" and not scripts <= {"latin", "japanese"}:
        return ""
    if scripts == {"latin"} and (name.isupper() or name.islower()) and len(name) > 1:
        name = name[0].upper() + name[1:].lower()
    return name


def _name_script(ch: str) -> str:
    code = ord(ch)
    if code < 0x250:
        return "latin"
    if 0x0600 <= code <= 0x06FF:
        return "arabic"
    if 0x3040 <= code <= 0x9FFF:
        return "japanese"
    return "other"


def _offer_words(offer: Offer, template: Template) -> str:
    """The offer in the reply's language; an offer not yet worded in that language gets the
    language's generic phrase rather than another language's words inside the sentence."""
    if template.language in offer.gives:
        return offer.words(template)
    return template.strings.get("offer_generic") or offer.words(template)


def _voice_in(voice: Voice, template: Template, policy: Policy) -> Voice:
    """The voice with the sign-off of the reply's language."""
    sign_off = template.strings.get("sign_off")
    if not sign_off or template.language == policy.default_language:
        return voice
    # Once per voice and language: a policy has a handful of each, and drafts are many.
    voices = policy.compiled("voices_in_language", lambda _: dict[tuple[Voice, str], Voice]())
    key = (voice, template.language)
    if key not in voices:
        voices[key] = replace(voice, sign_off=sign_off.format(brand=voice.brand))
    return voices[key]


def _capitalise(sentence: str, language: str) -> str:
    """A slot that opens with a placeholder ("{problem} konusunda...") still starts a sentence."""
    if not sentence or not sentence[0].islower() or any(c in sentence.split(" ", 1)[0]
                                                           for c in "@/."):
        return sentence  # An address or a link keeps its own spelling.
    first = "İ" if language == "tr" and sentence[0] == "i" else sentence[0].upper()
    return first + sentence[1:]


class _Picker:
    def __init__(self, identity: str):
        self.identity = identity

    def __call__(self, slot: str, options: Sequence[str]) -> str:
        digest = hashlib.blake2b(f"{self.identity}:{slot}".encode(), digest_size=8).digest()
        return options[int.from_bytes(digest, "big") % len(options)]


def _problem(template: Template, categories: list[str], pick: _Picker) -> str:
    named = [pick(f"problem:{c}", template.problems[c]) for c in categories[:2]
             if c in template.problems]
    if not named:
        return pick("problem:other", template.problems["other"])
    joiner = template.strings["and"]
    if _script_of(joiner) == "japanese":
        return joiner.join(named)
    if _script_of(joiner) == "arabic" and len(joiner) == 1:
        return f" {joiner}".join(named)  # Arabic "و" is written onto the next word.
    return f" {joiner} ".join(named)


def _script_of(text: str) -> str:
    return _name_script(text[0]) if text else "latin"


def _contact(template: Template, voice: Voice) -> str:
    ways = []
    if voice.email:
        ways.append(template.strings["contact_email"].format(email=voice.email))
    if voice.phone:
        ways.append(template.strings["contact_phone"].format(phone=voice.phone))
    if voice.url and not ways:
        ways.append(template.strings["contact_url"].format(url=voice.url))
    return f" {template.strings['contact_or']} ".join(ways)


def _compose(slots: dict[str, str], voice: Voice, platform: str, language: str = "en") -> str:
    """Join the slots; drop optional ones, least important first, until the reply fits."""
    slots = dict(slots)
    optional = [s for s in _OPTIONAL if s in slots]
    while True:
        text = _join(slots, voice, language)
        used, limit, _ = reply_length(text, platform)
        if used <= limit or not optional:
            return text
        slots.pop(optional.pop(0))


def _join(slots: dict[str, str], voice: Voice, language: str = "en") -> str:
    greeting = slots.get("greeting", "")
    # Japanese sentences follow each other without a space.
    space = "" if language in _UNSPACED else " "
    body = space.join(v for k, v in slots.items() if k != "greeting" and v)
    sign = f"{voice.sign_off}"
    if voice.compact:
        return " ".join(p for p in (greeting, body, f"– {sign}") if p)
    return "\n\n".join(p for p in (greeting, body, f"– {sign}") if p)
