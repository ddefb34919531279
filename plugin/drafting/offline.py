"""The offline drafter: deterministic replies from the policy's templates, no network.

Good enough to post: it greets by name, names the specific problem, apologises without excuses,
makes the policy's offer, points to the contact channel and signs off. Phrasing varies per review
(chosen by a hash of its identity), so similar reviews do not receive copies, and the same review
always gets the same draft.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

from connectors.base import Review, reply_length

from ..classify import Classification
from ..drafts import Draft
from ..policy import Offer, Policy, Template, Voice

# Slots a reply can lose, first to last, when it must fit a short platform limit.
_OPTIONAL = ("closing", "acknowledge", "praise_closing", "praise_problem", "greeting")


class OfflineDrafter:
    name = "offline"

    def draft(self, review: Review, policy: Policy, classification: Classification,
              instruction: str | None = None) -> Draft:
        language, note = _reply_language(policy, classification.language)
        template = policy.templates[language]
        voice = policy.voice_for(review.platform)
        pick = _Picker(f"{review.platform}:{review.external_id}")
        offer = None
        lists = template.lists
        if classification.escalate:
            self_harm = "self_harm" in classification.escalation_reasons \
                and "escalation_self_harm" in lists
            # Someone in distress gets the plainest invitation, not a varied one.
            slots = {"escalation": pick("escalation", lists["escalation_self_harm" if self_harm
                                                            else "escalation"]),
                     "escalation_contact": lists["escalation_contact"][0] if self_harm
                     else pick("escalation_contact", lists["escalation_contact"])}
        elif review.rating >= 4:
            slots = {"praise": pick("praise", lists["praise"])}
            if classification.categories:
                slots["praise_problem"] = pick("praise_problem", lists["praise_problem"])
            slots["praise_closing"] = pick("praise_closing", lists["praise_closing"])
        else:
            offer = choose_offer(policy, review.rating, classification.categories)
            rating_only = not review.full_text.strip() and "rating_only" in lists
            slots = {
                "apology": pick("apology", lists["rating_only" if rating_only else "apology"]),
                "acknowledge": "" if rating_only else pick("acknowledge", lists["acknowledge"]),
                "offer": pick("offer", lists["offer"]) if offer
                else pick("no_offer", lists["no_offer"]),
                "contact": pick("contact", lists["contact"]),
                "closing": pick("closing", lists["closing"]),
            }
        name = review.first_name
        slots = {"greeting": pick("greeting", lists["greeting"]) if name
                 else pick("greeting_anonymous", lists["greeting_anonymous"]), **slots}
        values = {
            "name": name,
            "brand": voice.brand,
            "problem": _problem(template, classification.categories, pick),
            "offer": offer.words(template) if offer else "",
            "contact": _contact(template, voice),
        }
        shorter = bool(instruction and "short" in instruction.lower())
        filled = {slot: text.format(**values) for slot, text in slots.items()
                  if not (shorter and slot in _OPTIONAL[:3])}
        text = _compose(filled, voice, review.platform)
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
    return (specific or allowed or [None])[0]


def _reply_language(policy: Policy, detected: str | None) -> tuple[str, str]:
    if detected and detected in policy.templates:
        return detected, ""
    fallback = policy.default_language
    if detected:
        return fallback, f"Answered in {fallback}: there is no template for '{detected}' yet."
    return fallback, ""


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
    return f" {template.strings['and']} ".join(named)


def _contact(template: Template, voice: Voice) -> str:
    ways = []
    if voice.email:
        ways.append(template.strings["contact_email"].format(email=voice.email))
    if voice.phone:
        ways.append(template.strings["contact_phone"].format(phone=voice.phone))
    if voice.url and not ways:
        ways.append(template.strings["contact_url"].format(url=voice.url))
    return f" {template.strings['contact_or']} ".join(ways)


def _compose(slots: dict[str, str], voice: Voice, platform: str) -> str:
    """Join the slots; drop optional ones, least important first, until the reply fits."""
    slots = dict(slots)
    optional = [s for s in _OPTIONAL if s in slots]
    while True:
        text = _join(slots, voice)
        used, limit, _ = reply_length(text, platform)
        if used <= limit or not optional:
            return text
        slots.pop(optional.pop(0))


def _join(slots: dict[str, str], voice: Voice) -> str:
    greeting = slots.get("greeting", "")
    body = " ".join(v for k, v in slots.items() if k != "greeting" and v)
    sign = f"{voice.sign_off}"
    if voice.compact:
        return " ".join(p for p in (greeting, body, f"– {sign}") if p)
    return "\n\n".join(p for p in (greeting, body, f"– {sign}") if p)
