"""The HTTP side of the input boundary: ids in URLs, query strings and form fields.

JSON bodies are read by `connectors.untrusted`; what arrives outside a body is checked here,
once for every MakeRight page and endpoint, so no view can forget it:

- an id in a URL is 1 to 2**31 - 1 written in ASCII digits, or the URL matches nothing (404):
  a larger number overflows SQLite's and PostgreSQL's integer columns and used to answer 500;
- a query string or a form field holding NUL is refused with the field's name (PostgreSQL
  cannot store NUL, and a person reading the value cannot see it).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from flask import current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
_ID_TEXT = re.compile(r"[0-9]{1,10}")
# Blueprints whose form fields are read here; machine endpoints read their own bodies (parsing a
# form there would consume the bytes a webhook signature covers).
FORM_BLUEPRINTS = frozenset({"auth", "queue", "settings", "integrations", "insights"})


class BadInput(HTTPException):
    """A request refused before any view ran; `field` names the offending parameter."""

    code = 400

    def __init__(self, field: str, message: str, code: int = 400):
        super().__init__(f"{field}: {message}")
        self.code = code
        self.field = field


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id. Only ASCII digits (Python's `int` also reads other scripts'
    digits) and only values an integer column can hold; anything else is a 404."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        super().__init__(map, min=1, max=MAX_ID)


def parse_id(text: str | None) -> int | None:
    """An id from a query string or a form, or None if it is not one."""
    if text is None or not _ID_TEXT.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_ids(values: Iterable[str]) -> list[int]:
    return sorted({value for value in map(parse_id, values) if value is not None})


def _first_nul(items: Iterable[tuple[str, str]]) -> str | None:
    for name, value in items:
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "\\u0000")
    return None


def refuse_unreadable() -> None:
    """A `before_request` hook: NUL in the query string (400) or a page's form (422)."""
    names = current_app.extensions.get("makeright.blueprints", frozenset())
    top = request.blueprints[-1] if request.blueprints else None
    if top not in names:
        return
    field = _first_nul(request.args.items(multi=True))
    if field is not None:
        raise BadInput(field, "contains a NUL character (U+0000), which is not allowed")
    if top in FORM_BLUEPRINTS and request.method == "POST" and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        field = _first_nul(request.form.items(multi=True))
        if field is not None:
            raise BadInput(field, "contains a NUL character (U+0000), which is not allowed",
                           422)
