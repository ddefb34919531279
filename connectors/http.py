"""The one request path every connector uses: authentication, retries, and error mapping.

Retrying lives here, not in the connectors, so every platform gets the same rules: retry only
reads, and only what can heal by itself (connection errors, timeouts, 408, 429, 5xx), back off
with jitter, honour `Retry-After` up to a cap, and hand anything longer to the job queue as
`RateLimited`. Writes are sent once: a write whose answer is lost leaves as `OutcomeUnknown`
for the poster, which reads the platform before anything else is decided. Every failure leaves
as a typed error carrying the platform's own words.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypedDict
from urllib.parse import urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)
from tenacity.stop import stop_base
from urllib3.exceptions import NewConnectionError

from .base import Connector
from .errors import (
    AuthenticationError,
    ConnectorError,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    PlatformRejected,
    RateLimited,
    TransientError,
)
from .retry import parse_retry_after, wait_backoff
from .settings import validate_settings

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Methods that change nothing on the platform, so sending them twice is harmless.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
USER_AGENT = "makeright-connectors/0.1"


class Auth(Protocol):
    """Adds credentials to a request; `refresh` is called once when the platform answers 401."""

    def headers(self) -> dict[str, str]: ...

    def refresh(self) -> None: ...


@dataclass
class RetryPolicy:
    """How long one call may keep trying before the failure goes back to the caller.

    In-process waits stay short on purpose: anything longer belongs in the job queue, which
    survives restarts, so a `Retry-After` above `max_retry_after` gives up at once.
    """

    max_attempts: int = 5
    max_total_seconds: float = 120.0
    max_retry_after: float = 60.0
    backoff_multiplier: float = 0.5
    backoff_max: float = 20.0


@dataclass
class HttpClient:
    """A `requests` session plus the platform facts needed to explain its failures."""

    label: str
    permission_hint: str
    auth: Auth | None = None
    session: requests.Session = field(default_factory=requests.Session)
    sleep: Callable[[float], None] = time.sleep
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: tuple[float, float] = (10.0, 60.0)
    #: Called before every request (our own count of a platform quota; raises QuotaExhausted)
    #: and with every response (a platform that reports its budget in headers).
    before_request: Callable[[], None] | None = None
    after_response: Callable[[requests.Response], None] | None = None

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", url, params=params)

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None) -> Any:
        """Send one logical request and return its JSON body (an empty body is `{}`).

        Anything but a 2xx with JSON raises a typed `ConnectorError`; a body that is not JSON
        (a proxy's error page, a truncated answer) counts as transient.

        A write (anything but GET, HEAD, OPTIONS) is sent once. Replies are upserts, so a blind
        resend after a lost answer could replace a reply someone else wrote in between; a
        timeout, reset, 5xx or unreadable answer to a write raises `OutcomeUnknown` instead,
        for the caller to read the platform before deciding. The one resend a write gets is
        after a 401: the platform refused the first request, so nothing was applied.
        """
        write = method.upper() not in SAFE_METHODS
        refreshed = False

        def attempt() -> Any:
            nonlocal refreshed
            response = self._send(method, url, params, json, write)
            if response.status_code == 401 and self.auth is not None and not refreshed:
                log.info("%s answered 401; refreshing credentials once", self.label)
                self.auth.refresh()
                refreshed = True
                response = self._send(method, url, params, json, write)
            if response.status_code >= 400:
                error = error_for(response, self.label, self.permission_hint)
                if write and type(error) is TransientError:
                    raise _unknown(error) from None
                raise error
            if not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                error = TransientError(f"{self.label} answered {response.status_code} with a "
                                       "body that is not JSON", status=response.status_code)
                raise (_unknown(error) if write else error) from None

        if write:
            return attempt()
        retrying = Retrying(
            stop=(stop_after_attempt(self.policy.max_attempts)
                  | stop_after_delay(self.policy.max_total_seconds)
                  | _stop_when_retry_after_exceeds(self.policy.max_retry_after)),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            sleep=self.sleep,
            reraise=True,
            before_sleep=before_sleep_log(log, logging.WARNING),
        )
        return retrying(attempt)

    def _send(self, method: str, url: str, params: Mapping[str, Any] | None,
              body: Any, write: bool = False) -> requests.Response:
        if self.before_request is not None:
            self.before_request()
        response = self._send_once(method, url, params, body, write)
        if self.after_response is not None:
            self.after_response(response)
        return response

    def _send_once(self, method: str, url: str, params: Mapping[str, Any] | None,
                   body: Any, write: bool) -> requests.Response:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.auth is not None:
            headers.update(self.auth.headers())
        try:
            return self.session.request(method, url, params=params, json=body, headers=headers,
                                        timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            host = urlsplit(url).netloc
            kind = type(exc).__name__
            if not write:
                raise TransientError(f"{self.label}: no answer from {host} ({kind})") from None
            if _never_sent(exc):
                raise TransientError(f"{self.label}: could not connect to {host} ({kind}); "
                                     "nothing was sent") from None
            raise OutcomeUnknown(f"{self.label}: no answer from {host} ({kind}) to a write; it "
                                 "may or may not have been applied") from None

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_backoff(self.policy.backoff_multiplier, self.policy.backoff_max)(state)
        retry_after = _retry_after_of(state)
        return backoff if retry_after is None else max(retry_after, backoff)


class HttpConnector(Connector):
    """A connector whose platform calls all go through one `HttpClient`.

    `session`, `sleep` and `retry` are injection points for proxies, tests and benchmarks;
    settings are checked against `settings_schema` before anything else happens, and every
    subclass's schema has a `base_url` with a default.
    """

    label: ClassVar[str] = "platform"

    def __init__(self, settings: dict[str, Any], *, session: requests.Session | None = None,
                 sleep: Callable[[float], None] | None = None, retry: RetryPolicy | None = None,
                 timeout: tuple[float, float] | None = None):
        validate_settings(self.settings_schema, settings, self.label)
        super().__init__(settings)
        self._session = session or requests.Session()
        self._sleep = sleep or time.sleep
        self._retry = retry or RetryPolicy()
        self._timeout = timeout or (10.0, 60.0)
        self.base_url = str(self.setting("base_url")).rstrip("/")

    def setting(self, name: str) -> Any:
        """A setting, or its schema default when unset, so each default is written once."""
        value = self.settings.get(name)
        if value is None or value == "":
            return self.settings_schema["properties"][name].get("default")
        return value

    def _client(self, permission_hint: str, auth: Auth | None = None) -> HttpClient:
        return HttpClient(label=self.label, permission_hint=permission_hint, auth=auth,
                          session=self._session, sleep=self._sleep, policy=self._retry,
                          timeout=self._timeout)


class _stop_when_retry_after_exceeds(stop_base):
    """Stop at once when the server asks us to wait longer than we are willing to sleep."""

    def __init__(self, cap: float):
        self.cap = cap

    def __call__(self, state: RetryCallState) -> bool:
        retry_after = _retry_after_of(state)
        return retry_after is not None and retry_after > self.cap


def _retry_after_of(state: RetryCallState) -> float | None:
    if state.outcome is None or not state.outcome.failed:
        return None
    exc = state.outcome.exception()
    return getattr(exc, "retry_after", None) if isinstance(exc, ConnectorError) else None


def _never_sent(exc: BaseException) -> bool:
    """True when the connection failed before any byte of the request left (refused, no route,
    connect timeout), so even a write certainly did not reach the platform."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _unknown(error: ConnectorError) -> OutcomeUnknown:
    return OutcomeUnknown(f"{error}; the write may or may not have been applied",
                          status=error.status, platform_message=error.platform_message,
                          retry_after=error.retry_after)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientError):
        return True
    # QuotaExhausted is our own verdict, and a 403 "rate limit" is not a 429: neither heals
    # within the seconds we are willing to wait.
    return type(exc) is RateLimited and exc.status == 429


def platform_message(response: requests.Response) -> tuple[str, str | None]:
    """(message, code) from a Google (`error.message/status`) or Apple (`errors[]`) error body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or response.reason or ""), error.get("status")
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            parts = [str(e.get("detail") or e.get("title") or "") for e in errors
                     if isinstance(e, dict)]
            return "; ".join(p for p in parts if p), errors[0].get("code")
        if isinstance(error, str):  # OAuth token endpoints: {"error", "error_description"}
            return str(body.get("error_description") or error), error
    return (response.reason or "no details given"), None


class _ErrorDetails(TypedDict):
    status: int
    platform_message: str
    retry_after: float | None


def error_for(response: requests.Response, label: str, permission_hint: str) -> ConnectorError:
    """The typed error for a non-2xx answer; the message keeps the platform's own words."""
    status = response.status_code
    message, code = platform_message(response)
    text = f"{label} answered {status}{f' {code}' if code else ''}: {message}"
    # Retry-After is honoured wherever a platform sends it: 429, 503 and any other answer.
    kwargs: _ErrorDetails = {"status": status, "platform_message": message,
              "retry_after": parse_retry_after(response.headers.get("Retry-After"))}
    if status == 401:
        return AuthenticationError(
            f"{text}. The credentials were refused; re-authorise the source.", **kwargs)
    if status == 403:
        return PermissionDenied(f"{text}. {permission_hint}", **kwargs)
    if status == 404:
        return NotFound(text, **kwargs)
    if status == 429:
        return RateLimited(text, **kwargs)
    if status in RETRYABLE_STATUSES or status >= 500:
        return TransientError(text, **kwargs)
    return PlatformRejected(text, **kwargs)
