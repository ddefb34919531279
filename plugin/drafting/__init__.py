"""Drafting engines and the one function every caller uses to get a checked draft.

Engines only write; `draft_review` classifies the review once, lets the engine write, and runs
the guardrails, so no engine can hand back an unchecked draft.
"""
from __future__ import annotations

from typing import Protocol

from connectors.base import Review

from ..classify import Classification, classifier_for
from ..drafts import Draft
from ..guardrails import check
from ..policy import Policy
from .llm import LLMDrafter
from .offline import OfflineDrafter


class Drafter(Protocol):
    name: str

    def draft(self, review: Review, policy: Policy, classification: Classification,
              instruction: str | None = None) -> Draft: ...


ENGINES: dict[str, type] = {"offline": OfflineDrafter, "llm": LLMDrafter}


def get_drafter(engine: str = "offline") -> Drafter:
    try:
        return ENGINES[engine]()
    except KeyError:
        raise ValueError(f"unknown engine {engine!r} (use one of {', '.join(ENGINES)})") from None


def draft_review(review: Review, policy: Policy, drafter: Drafter | None = None,
                 instruction: str | None = None) -> Draft:
    """Classify, draft and check one review; the returned draft carries its violations."""
    classification = classifier_for(policy).classify(review)
    draft = (drafter or OfflineDrafter()).draft(review, policy, classification, instruction)
    draft.violations = check(draft, review, policy, classification)
    draft.policy = policy.label
    return draft
