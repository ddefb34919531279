"""Reading what strangers send: JSON bodies and lines, and every string inside them.

Every way a review comes in (the webhook, the REST API, an import file, Google's push, a
platform listing) passes through here before anything else looks at it, so one set of rules
holds everywhere:

- the bytes are strict UTF-8; anything else is refused by position, never guessed at;
- nesting is measured on the raw text before the parser runs, so a hostile body cannot drive
  the parser into its recursion limit;
- NaN, Infinity, numbers too large for a float and duplicate keys are refused: each is a place
  where two JSON readers disagree about what was sent;
- no string, key or value, holds NUL or a lone surrogate. Neither is text: PostgreSQL refuses
  NUL, and a lone surrogate cannot be encoded as UTF-8, so one stored in a row breaks every
  page and export that shows it. The error names the field by its path (`metadata.app`,
  `reviews[2].text`), so the sender knows exactly what to fix.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import Refusal

MAX_DEPTH = 32
# A string in JSON text (possessive, so a long string costs one pass); what is left once strings
# are removed is structure, and brackets in it are nesting.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")
NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


class InputError(Refusal, ValueError):
    """Input refused before it reached the store; `field` names where, `problem` says why."""

    field: str

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def decode_utf8(data: bytes, field: str = "body") -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(field, f"is not valid UTF-8 (byte {exc.start} is "
                                f"0x{data[exc.start]:02x})") from None


def nesting_depth(text: str, limit: int) -> int:
    """How deeply arrays and objects nest in JSON text, counting no further than `limit` + 1."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise InputError("body", f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputError("body", f"the number {text[:40]} is too large")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InputError(key, "appears twice in one object")
        result[key] = value
    return result


def decode_json(data: bytes | str, *, field: str = "body", max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON from a stranger; InputError names the problem and, when it can, the field."""
    text = decode_utf8(data, field) if isinstance(data, (bytes, bytearray)) else data
    if nesting_depth(text, max_depth) > max_depth:
        raise InputError(field, f"nests arrays and objects deeper than {max_depth} levels")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite,
                           object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        where = f"column {exc.colno}" if exc.lineno == 1 else \
            f"line {exc.lineno} column {exc.colno}"
        raise InputError(field, f"is not valid JSON ({exc.msg} at {where})") from None
    except RecursionError:  # unreachable within MAX_DEPTH; kept so no caller ever sees it
        raise InputError(field, "nests too deeply") from None
    except InputError:
        raise
    except ValueError as exc:  # an integer with more digits than Python converts
        raise InputError(field, f"is not valid JSON ({exc})") from None
    check_text(value)
    return value


def child(parent: str, key: str | int) -> str:
    """The path of a member: `metadata.app`, `reviews[2]`; the root has the empty path."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check_text(value: Any, path: str = "") -> None:
    """Refuse NUL and lone surrogates in any string of a parsed value, keys included."""
    if isinstance(value, str):
        _check_string(value, path or "value")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(path or "value", "has a key that is not a string")
            where = child(path, key)
            _check_string(key, printable(where), "its name ")
            check_text(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, child(path, index))


def _check_string(text: str, path: str, subject: str = "") -> None:
    found = NOT_TEXT.search(text)
    if found is None:
        return
    char = found.group()
    if char == "\x00":
        raise InputError(path, f"{subject}contains a NUL character (U+0000), which is not "
                               "allowed in text")
    raise InputError(path, f"{subject}contains a lone surrogate (U+{ord(char):04X}), which is "
                           "not a Unicode character; send text as UTF-8")


def printable(text: str) -> str:
    """Text that can always be encoded: NUL and lone surrogates shown as escapes.

    For output only (pages, exports, logs): rows stored before these rules existed may still
    hold such characters, and one of them must never take a whole page or export down.
    """
    if NOT_TEXT.search(text) is None:
        return text
    return NOT_TEXT.sub(lambda m: escaped(m.group()), text)


def escaped(char: str) -> str:
    """How `printable` shows one character: a JSON-style escape, `\\udfff`."""
    return f"\\u{ord(char):04x}"
