"""The root of MakeRight's own refusals, so every surface can answer them the same way.

A `MakeRightError` carries a stable `code` (what the API and the audit log name) and the HTTP
`status` it means on a web surface; the message is written for the person who must act on it.

connectors/ sits below plugin/ and cannot derive from this class, so its refusals share a root
of their own (`connectors.errors.Refusal`, with `code` and `field` as attributes); `refusal()`
turns either kind into a `MakeRightError`, which is all a surface's one handler needs. Errors
that are not refusals (a bug, a database down) are left alone, so they stay loud.
"""
from __future__ import annotations

from typing import Any

from connectors.errors import ConnectorError, Refusal

#: What each action refusal means in HTTP; a code not listed is a conflict (409).
ACTION_STATUS = {"forbidden": 403, "no_draft": 409, "invalid_state": 409, "not_answerable": 409,
                 "draft_changed": 409, "not_approved_text": 409, "no_source": 409,
                 "no_public_reply": 409, "public_reply_changed": 409,
                 "needs_override": 422, "reason_required": 422, "unknown_offer": 422,
                 "cannot_post": 422, "too_long": 422, "empty": 422}

#: What a connectors refusal means in HTTP, by its code: input that fails the format is 422
#: (400 when the body cannot be read at all), a platform that cannot be reached is 503 and one
#: that answered with an error is 502.
CONNECTOR_STATUS = {"invalid_request": 422, "invalid_review": 422, "invalid_export": 400,
                    "too_long": 422, "platform_rejected": 422, "upstream_unavailable": 503,
                    "upstream_error": 502}


class MakeRightError(Exception):
    """A refusal a person or an integrator can act on."""

    code = "invalid_request"
    status = 400
    #: The input field the refusal is about, when there is one.
    field: str | None = None

    def __init__(self, message: str = "", *, code: str | None = None,
                 status: int | None = None, field: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        return str(self)

    def body(self) -> dict[str, Any]:
        """The JSON error shape every integration endpoint answers with."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class ActionError(MakeRightError):
    """An action refused for a reason a person can act on; `code` is stable for the API."""

    status = 409

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code, status=ACTION_STATUS.get(code, 409))


#: Both roots, for an `except` or a handler that answers every refusal.
REFUSALS: tuple[type[Exception], ...] = (MakeRightError, Refusal)


def refusal(exc: BaseException) -> MakeRightError | None:
    """The `MakeRightError` that `exc` means to a person, or None when it is not a refusal."""
    if isinstance(exc, MakeRightError):
        return exc
    if not isinstance(exc, Refusal):
        return None
    if isinstance(exc, ConnectorError):
        status = CONNECTOR_STATUS.get(exc.code, 502)
    elif exc.field == "body":
        status = 400  # a body that cannot be read at all, rather than one bad field in it
    else:
        status = CONNECTOR_STATUS.get(exc.code, 422)
    translated = MakeRightError(str(exc), code=exc.code, status=status, field=exc.field)
    translated.__cause__ = exc
    return translated
