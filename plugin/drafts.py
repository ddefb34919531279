"""A drafted reply and what the guardrails found in it: the value every engine returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.base import reply_length

from .errors import MakeRightError
from .policy import Offer


@dataclass(frozen=True)
class Violation:
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class Draft:
    text: str
    engine: str
    language: str
    platform: str
    review_language: str | None = None
    categories: list[str] = field(default_factory=list)
    escalation_reasons: list[str] = field(default_factory=list)
    offer: Offer | None = None
    #: One line for the approver: fallbacks, the model's note, why it needs attention.
    note: str = ""
    violations: list[Violation] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: The policy (brand, and location) the draft followed, as the queue names it.
    policy: str = ""

    @property
    def escalate(self) -> bool:
        return bool(self.escalation_reasons)

    @property
    def length(self) -> tuple[int, int, str]:
        return reply_length(self.text, self.platform)

    def to_json(self) -> dict[str, Any]:
        used, limit, unit = self.length
        return {
            "language": self.language,
            "review_language": self.review_language,
            "categories": self.categories,
            "escalate": self.escalate,
            "escalation_reasons": self.escalation_reasons,
            "offer": self.offer.to_json() if self.offer else None,
            "text": self.text,
            "chars": used,
            "limit": limit,
            "limit_unit": unit,
            "violations": [v.to_json() for v in self.violations],
            "engine": self.engine,
            "note": self.note,
        }


class DraftFailed(MakeRightError):
    """No usable draft: the engine could not get an answer it may hand to a person.

    `reason` is a stable code (timeout, rate_limited, server_error, connection, bad_request,
    auth, refusal, truncated, content_filter, unparseable, schema_invalid); the review goes to
    `draft_failed` and is retried or written by hand. Tokens already spent are reported so the
    daily budget counts failures too.
    """

    code = "draft_failed"
    status = 502

    def __init__(self, reason: str, detail: str = "", *, prompt_tokens: int = 0,
                 completion_tokens: int = 0):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "detail": self.detail,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens}
