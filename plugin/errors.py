"""The root of MakeRight's own refusals, so every surface can answer them the same way.

A `MakeRightError` carries a stable `code` (what the API and the audit log name) and the HTTP
`status` it means on a web surface; the message is written for the person who must act on it.
"""
from __future__ import annotations


class MakeRightError(Exception):
    """A refusal a person or an integrator can act on."""

    code = "invalid_request"
    status = 400

    def __init__(self, message: str = "", *, code: str | None = None,
                 status: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ActionError(MakeRightError):
    """An action refused for a reason a person can act on; `code` is stable for the API."""

    status = 409

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)
