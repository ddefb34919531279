"""Settings of the LLM engine, read from the environment.

Any OpenAI-compatible server works (OpenAI, Azure OpenAI's v1 endpoint, Ollama, vLLM, llama.cpp,
LM Studio), so nothing here is specific to one provider: a base URL, a model name and an optional
key. Local servers need no key; the SDK insists on one, so a placeholder is sent instead.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

STRUCTURED_MODES = ("auto", "json_schema", "prompt")
LOCAL_KEY = "no-key-needed"


def _number(env: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {raw!r}")
    return value


@dataclass(frozen=True)
class LLMSettings:
    model: str = ""
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    #: Seconds for one HTTP call, connect included; a hung server fails the call after this.
    timeout: float = 60.0
    #: Drafts in flight at once in `draft_many`.
    concurrency: int = 8
    #: Prompt plus completion tokens per UTC day; 0 means no ceiling.
    daily_token_budget: int = 1_000_000
    #: Review characters sent to the model; the rest is cut (cost and injection surface).
    max_review_chars: int = 3000
    #: HTTP attempts per model call (first try included) for transient failures.
    max_attempts: int = 3
    #: The longest Retry-After honoured; a server asking for more is not retried in-process.
    max_retry_after: float = 30.0
    max_output_tokens: int = 700
    temperature: float | None = None
    #: json_schema: response_format; prompt: schema in the prompt; auto: the first, then the
    #: second if the server rejects response_format.
    structured_output: str = "auto"
    examples: int = 3

    def __post_init__(self) -> None:
        if self.structured_output not in STRUCTURED_MODES:
            raise ValueError(f"structured output must be one of {', '.join(STRUCTURED_MODES)}")
        if self.concurrency < 1 or self.max_attempts < 1:
            raise ValueError("concurrency and max_attempts must be at least 1")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMSettings:
        env = os.environ if env is None else env
        temperature = env.get("MAKERIGHT_LLM_TEMPERATURE", "").strip()
        return cls(
            model=env.get("MAKERIGHT_LLM_MODEL", "").strip(),
            base_url=(env.get("MAKERIGHT_LLM_BASE_URL") or env.get("OPENAI_BASE_URL")
                      or "").strip() or None,
            api_key=env.get("OPENAI_API_KEY", "").strip() or None,
            timeout=_number(env, "MAKERIGHT_LLM_TIMEOUT", cls.timeout),
            concurrency=int(_number(env, "MAKERIGHT_LLM_CONCURRENCY", cls.concurrency, int)),
            daily_token_budget=int(_number(env, "MAKERIGHT_LLM_DAILY_TOKENS",
                                           cls.daily_token_budget, int)),
            max_review_chars=int(_number(env, "MAKERIGHT_LLM_MAX_REVIEW_CHARS",
                                         cls.max_review_chars, int)),
            max_attempts=int(_number(env, "MAKERIGHT_LLM_MAX_ATTEMPTS", cls.max_attempts, int)),
            max_retry_after=_number(env, "MAKERIGHT_LLM_MAX_RETRY_AFTER", cls.max_retry_after),
            max_output_tokens=int(_number(env, "MAKERIGHT_LLM_MAX_OUTPUT_TOKENS",
                                          cls.max_output_tokens, int)),
            temperature=float(temperature) if temperature else None,
            structured_output=env.get("MAKERIGHT_LLM_STRUCTURED_OUTPUT", "auto").strip()
            or "auto",
            examples=int(_number(env, "MAKERIGHT_LLM_EXAMPLES", cls.examples, int)),
        )

    @property
    def missing(self) -> str:
        """Why no LLM is configured, in words an operator can act on; empty when it is."""
        if not self.model:
            return "MAKERIGHT_LLM_MODEL is not set"
        if not (self.api_key or self.base_url):
            return "neither OPENAI_API_KEY nor MAKERIGHT_LLM_BASE_URL/OPENAI_BASE_URL is set"
        return ""

    @property
    def configured(self) -> bool:
        return not self.missing

    @property
    def is_openai(self) -> bool:
        return self.base_url is None or "api.openai.com" in self.base_url

    @property
    def client_key(self) -> str:
        return self.api_key or LOCAL_KEY
