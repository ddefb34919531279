"""The LLM engine: drafts with any OpenAI-compatible server, held to the company policy.

The model only proposes. Code decides: the offer is looked up in the policy by an id the schema
restricts to the offers allowed for this review; an escalation (by the classifier or the model)
drops any offer; every draft goes through the guardrails, and a draft that breaks them gets one
more try with the problems listed, then is kept with its violations for a person to fix. An
answer that cannot be trusted at all (unparseable, refused, truncated, out of schema twice) is
a DraftFailed, never a half-read draft.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from connectors.base import Review
from connectors.text import strip_invisible

from ..classify import Classification, detect_language
from ..drafts import Draft, DraftFailed
from ..guardrails import check
from ..policy import Offer, Policy
from .budget import MemoryLedger, UsageLedger, utc_today
from .examples import ExampleProvider
from .llm_client import Completion, LLMClient, StructuredOutputUnsupported, extract_json
from .llm_prompt import (
    build_messages,
    correction_message,
    mask_personal,
    own_contacts,
    response_format,
    response_schema,
    with_schema,
)
from .llm_settings import LLMSettings
from .offline import OfflineDrafter, reply_language

log = logging.getLogger("makeright.llm")
MODEL_ESCALATION = "flagged_by_model"
NOTE_CHARS = 200
_warned: set[str] = set()
_warn_lock = threading.Lock()


def warn_once(key: str, message: str, level: int = logging.WARNING) -> None:
    with _warn_lock:
        if key in _warned:
            return
        _warned.add(key)
    log.log(level, message)


@dataclass
class _Answer:
    data: dict[str, Any] | None
    problems: list[str]
    content: str


class LLMDrafter:
    name = "llm"

    def __init__(self, settings: LLMSettings | None = None, *,
                 examples: ExampleProvider | None = None, ledger: UsageLedger | None = None,
                 client: LLMClient | None = None):
        self.settings = settings or LLMSettings.from_env()
        self.examples = examples
        self.ledger = ledger or MemoryLedger()
        self.offline = OfflineDrafter()
        self.client = client
        if self.client is None and self.settings.configured:
            self.client = LLMClient(self.settings)
        self.schema_in_prompt = self.settings.structured_output == "prompt"

    @property
    def concurrency(self) -> int:
        return self.settings.concurrency if self.client else 1

    def draft(self, review: Review, policy: Policy, classification: Classification,
              instruction: str | None = None) -> Draft:
        if self.client is None:
            warn_once("unconfigured", f"No LLM configured ({self.settings.missing}); "
                                      "drafting with the offline engine.")
            return self.offline.draft(review, policy, classification, instruction)
        budget = self.settings.daily_token_budget
        if budget and self.ledger.used_today() >= budget:
            warn_once(f"budget:{utc_today()}", f"The daily LLM token budget ({budget}) is "
                      "used up; new drafts are written offline until tomorrow (UTC).",
                      logging.ERROR)
            fallback = self.offline.draft(review, policy, classification, instruction)
            fallback.note = _join(f"Daily LLM token budget ({budget} tokens) reached; "
                                  "drafted offline.", fallback.note)
            return fallback
        return self._draft(review, policy, classification, instruction)

    def _draft(self, review: Review, policy: Policy, classification: Classification,
               instruction: str | None) -> Draft:
        allowed = policy.allowed_offers(review.rating, classification.categories,
                                        classification.escalate)
        # The model writes only in the policy's languages; a fallback is said in the queue.
        language, fallback_note = reply_language(policy, classification)
        examples = (list(self.examples(review, classification, self.settings.examples))
                    if self.examples and self.settings.examples else [])
        schema = response_schema(allowed)
        validator = Draft202012Validator(schema)
        messages = build_messages(review, policy, classification, allowed, language,
                                  self.settings.max_review_chars, examples, instruction)
        tokens = [0, 0]
        first = self._ask(messages, schema, validator, tokens)
        problems = first.problems
        draft = None
        if first.data is not None and not problems:
            draft = self._to_draft(first.data, review, policy, classification, allowed, language)
            violations = check(draft, review, policy, classification)
            problems = [f"{v.code}: {v.message}" for v in violations]
        if problems:
            keep = own_contacts(policy)
            messages = [*messages,
                        {"role": "assistant", "content": mask_personal(first.content, keep)},
                        {"role": "user", "content": correction_message(problems, keep)}]
            second = self._ask(messages, schema, validator, tokens)
            if second.data is None or second.problems:
                raise DraftFailed("schema_invalid", "; ".join(second.problems)[:500],
                                  prompt_tokens=tokens[0], completion_tokens=tokens[1])
            draft = self._to_draft(second.data, review, policy, classification, allowed,
                                   language)
            draft.note = _join(draft.note, "Redrafted once by the model after: "
                               + ", ".join(sorted({p.split(":")[0] for p in problems})) + ".")
        assert draft is not None
        draft.note = _join(fallback_note, draft.note)
        draft.violations = check(draft, review, policy, classification)
        if draft.violations:
            draft.note = _join(draft.note, "Still breaks the policy after one redraft; a person "
                                           "must fix it.")
        draft.prompt_tokens, draft.completion_tokens = tokens
        return draft

    def _ask(self, messages: list[dict[str, str]], schema: dict[str, Any],
             validator: Draft202012Validator, tokens: list[int]) -> _Answer:
        completion = self._complete(messages, schema)
        tokens[0] += completion.prompt_tokens
        tokens[1] += completion.completion_tokens
        self.ledger.add(self.settings.model, completion.prompt_tokens,
                        completion.completion_tokens)

        def fail(reason: str, detail: str) -> DraftFailed:
            return DraftFailed(reason, detail, prompt_tokens=tokens[0],
                               completion_tokens=tokens[1])

        if completion.refusal:
            raise fail("refusal", completion.refusal[:300])
        if completion.finish_reason == "length":
            raise fail("truncated", "the answer hit the output token limit")
        if completion.finish_reason == "content_filter":
            raise fail("content_filter", "the server's content filter stopped the answer")
        try:
            data = extract_json(completion.content)
        except ValueError:
            raise fail("unparseable", f"not JSON: {completion.content[:120]!r}") from None
        problems = [f"schema: {'/'.join(map(str, e.absolute_path)) or 'answer'}: {e.message}"
                    for e in validator.iter_errors(data)]
        return _Answer(data, problems, completion.content)

    def _complete(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> Completion:
        assert self.client is not None
        if not self.schema_in_prompt:
            try:
                return self.client.complete(messages, response_format(schema))
            except StructuredOutputUnsupported as exc:
                self.schema_in_prompt = True
                warn_once("no_json_schema", "The model server does not accept json_schema "
                          f"response_format ({exc}); sending the schema in the prompt instead.")
        return self.client.complete(with_schema(messages, schema), None)

    def _to_draft(self, data: dict[str, Any], review: Review, policy: Policy,
                  classification: Classification, allowed: list[Offer], language: str) -> Draft:
        text = str(data["reply"]).replace("\r\n", "\n").strip()
        reasons = list(classification.escalation_reasons)
        note = _one_line(str(data.get("note") or ""))
        notes = [f"Model note: {note}"] if note else []
        if data.get("escalate") and not reasons:
            reasons.append(MODEL_ESCALATION)
            why = _one_line(str(data.get("escalation_reason") or "no reason given"))
            notes.append(f"The model escalated it: {why}")
        offer = policy.offer(data.get("offer_id")) if data.get("offer_id") else None
        if offer is not None and reasons:
            notes.append(f"Offer “{offer.id}” dropped: an escalated review gets no offer.")
            offer = None
        elif offer is not None and offer not in allowed:
            notes.append(f"Offer “{offer.id}” dropped: not allowed for this review.")
            offer = None
        categories = list(classification.categories)
        categories += [c for c in data.get("categories", [])
                       if c in policy.categories and c not in categories]
        detected, _ = detect_language(text) if text else (None, 0.0)
        return Draft(text=text, engine=self.name, language=detected or language,
                     platform=review.platform, review_language=classification.language,
                     categories=categories, escalation_reasons=reasons, offer=offer,
                     note=" ".join(notes))


def _one_line(text: str) -> str:
    text = " ".join(strip_invisible(text).split())
    return text if len(text) <= NOTE_CHARS else text[:NOTE_CHARS - 1] + "…"


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)

