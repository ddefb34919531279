"""Typed connector errors, in the manner of the Stripe library: callers branch on the class,
people read the message, and the platform's own words are always kept.

`Refusal` is the root of every refusal raised below plugin/ (input that fails the format, a
platform that says no, an export that cannot be read). connectors/ cannot see plugin's
`MakeRightError`, so a refusal here carries what a surface needs by attribute: a stable `code`
and, for input, the `field`; plugin/errors.py turns it into a `MakeRightError` with the HTTP
status that code means.
"""
from __future__ import annotations


class Refusal(Exception):
    """Something a person or an integrator can act on; `code` is stable, the message says why."""

    code = "invalid_request"
    field: str | None = None


class ConnectorError(Refusal):
    """Base class. `retryable` tells the pipeline whether trying again later can help.

    `status` is the platform's HTTP status, not ours: the code says what it means here.
    """

    code = "upstream_error"
    retryable = False

    def __init__(self, message: str, *, status: int | None = None,
                 platform_message: str | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.platform_message = platform_message
        #: Seconds the platform asked us to wait (`Retry-After`), on any answer that said it.
        self.retry_after = retry_after


class AuthenticationError(ConnectorError):
    """Credentials are missing, expired or revoked."""


class PermissionDenied(ConnectorError):
    """Authenticated, but the account lacks a permission; the message names it."""


class NotFound(ConnectorError):
    """The review (or app, or location) no longer exists on the platform."""


class RateLimited(ConnectorError):
    """The platform throttled us; `retry_after` is in seconds when it said."""

    code = "upstream_unavailable"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, retry_after=retry_after, **kwargs)


class QuotaExhausted(RateLimited):
    """Our own count of a platform quota says stop before the platform refuses."""


class PlatformRejected(ConnectorError):
    """The platform refused the content (too long, policy violation, invalid request)."""

    code = "platform_rejected"


class TransientError(ConnectorError):
    """Connection failure, timeout or 5xx after our retries: trying again later may help."""

    code = "upstream_unavailable"
    retryable = True


class OutcomeUnknown(TransientError):
    """A write that may or may not have been applied (timeout, reset, 5xx after sending).

    Never sent again blindly: the caller reads the platform first and decides from what it
    shows, because a second write could duplicate the reply or replace someone else's.
    """


class ReplyTooLong(PlatformRejected):
    """Refused before any request: the reply is over the platform's limit."""

    code = "too_long"
