"""One chat-completions call, with the retry policy, and reading what comes back.

Retries live in exactly one layer: tenacity here. The SDK client is built with `max_retries=0`,
because its own two retries inside a tenacity loop would multiply attempts (3 x 3 = 9 calls for
one draft). Transient failures (connection errors, timeouts, 408, 429, 5xx) are retried with
full-jitter exponential backoff, or after the server's Retry-After when it sends one; a
Retry-After longer than the configured cap is not waited for in-process at all.

The SDK is imported where a call is made, not with this module: importing it costs more CPU
than everything else a command line start does, and offline drafting never needs it.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
)
from tenacity.wait import wait_base

from connectors.retry import parse_retry_after, wait_backoff

from ..drafts import DraftFailed
from .llm_settings import LLMSettings

if TYPE_CHECKING:
    import openai

log = logging.getLogger("makeright.llm")


class StructuredOutputUnsupported(Exception):
    """The server rejected `response_format`; the caller puts the schema in the prompt."""


@dataclass(frozen=True)
class Completion:
    content: str
    finish_reason: str | None
    refusal: str | None
    prompt_tokens: int
    completion_tokens: int


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """The wait a server asked for (retry-after-ms, or Retry-After in seconds or as a date)."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000, 0.0)
        except ValueError:
            pass
    return parse_retry_after(headers.get("retry-after"))


def is_transient(exc: BaseException, max_retry_after: float) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status in (408, 429) or status >= 500:
            after = retry_after_seconds(exc)
            return after is None or after <= max_retry_after
    return False


class wait_retry_after(wait_base):
    """The server's Retry-After when given (capped), else the fallback backoff."""

    def __init__(self, fallback: wait_base, cap: float):
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = retry_after_seconds(exc)
        if after is not None:
            return min(after, self.cap)
        return self.fallback(retry_state)


def _failure(exc: BaseException) -> DraftFailed:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return DraftFailed("timeout", "the model server did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return DraftFailed("connection", "the model server could not be reached")
    if isinstance(exc, openai.RateLimitError):
        after = retry_after_seconds(exc)
        wait = f"; it asks to wait {after:.0f} s" if after is not None else ""
        return DraftFailed("rate_limited", f"the model server is rate limiting{wait}")
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return DraftFailed("auth", f"the model server refused the credentials "
                                   f"(HTTP {exc.status_code})")
    if isinstance(exc, openai.APIStatusError):
        kind = "server_error" if exc.status_code >= 500 else "bad_request"
        return DraftFailed(kind, f"HTTP {exc.status_code}: {_message(exc)}")
    return DraftFailed("connection", str(exc))


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        body = body.get("message") or json.dumps(body)[:300]
    return str(body or exc.message)[:300]


def _rejects_response_format(exc: openai.APIStatusError) -> bool:
    text = f"{exc.message} {_message(exc)}".lower()
    return exc.status_code in (400, 422) and any(
        word in text for word in ("response_format", "json_schema", "response format"))


class LLMClient:
    """The configured OpenAI-compatible server, called with one retry layer."""

    def __init__(self, settings: LLMSettings,
                 sleep: Callable[[float], None] = time.sleep,
                 client: openai.OpenAI | None = None):
        import openai

        self.settings = settings
        self.client = client or openai.OpenAI(
            api_key=settings.client_key, base_url=settings.base_url,
            timeout=settings.timeout, max_retries=0)
        self.sleep = sleep
        self.token_param = "max_completion_tokens" if settings.is_openai else "max_tokens"

    def retrying(self) -> Retrying:
        cap = self.settings.max_retry_after
        return Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_retry_after(wait_backoff(base=0.5, cap=8), cap),
            retry=retry_if_exception(lambda exc: is_transient(exc, cap)),
            before_sleep=before_sleep_log(log, logging.WARNING),
            sleep=self.sleep, reraise=True)

    def complete(self, messages: list[dict[str, str]],
                 response_format: dict[str, Any] | None) -> Completion:
        """One answer from the model; DraftFailed when the server never gives one."""
        import openai

        kwargs: dict[str, Any] = {"model": self.settings.model, "messages": messages,
                                  self.token_param: self.settings.max_output_tokens}
        if response_format is not None:
            kwargs["response_format"] = response_format
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        try:
            result = self.retrying()(self.client.chat.completions.create, **kwargs)
        except openai.APIStatusError as exc:
            if response_format is not None and _rejects_response_format(exc):
                raise StructuredOutputUnsupported(_message(exc)) from exc
            raise _failure(exc) from exc
        except openai.APIError as exc:
            raise _failure(exc) from exc
        usage = result.usage
        prompt = usage.prompt_tokens if usage else 0
        completion = usage.completion_tokens if usage else 0
        if not result.choices:
            raise DraftFailed("unparseable", "the answer had no choices",
                              prompt_tokens=prompt, completion_tokens=completion)
        choice = result.choices[0]
        return Completion(content=choice.message.content or "",
                          finish_reason=choice.finish_reason,
                          refusal=getattr(choice.message, "refusal", None),
                          prompt_tokens=prompt, completion_tokens=completion)


def extract_json(content: str) -> dict[str, Any]:
    """The first JSON object in a model's text, bare or inside ``` fences or prose.

    Servers without structured output often wrap the object in a fence or a sentence; the
    object itself must still be complete and valid, nothing is repaired.
    """
    text = content.strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        return value
    decoder = json.JSONDecoder()
    position = text.find("{")
    while position != -1:
        try:
            value, _ = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        position = text.find("{", position + 1)
    raise ValueError("no JSON object in the answer")
