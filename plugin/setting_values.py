"""How the text of an environment variable becomes a typed setting.

Each parser takes the variable's name and its raw text and returns the value, or raises
`SettingsError` with a message that names the variable and says what it expects, so an
operator who set `MAKERIGHT_WORKER_POLL_SECONDS=fast` learns which variable and what to write.
`plugin.config` lists the variables; this module only reads texts it is given.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import MakeRightError

TRUE_WORDS, FALSE_WORDS = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no",
                                                                            "off"})


class SettingsError(MakeRightError, ValueError):
    """A setting that cannot be used; the message names the setting and what it expects."""

    code = "invalid_setting"
    status = 500


def text(name: str, raw: str) -> str:
    return raw


def stripped(name: str, raw: str) -> str:
    return raw.strip()


def path(name: str, raw: str) -> Path:
    return Path(raw.strip()).expanduser()


def whole(low: int, high: int | None = None, what: str = "a whole number"
           ) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        text = raw.strip()
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise SettingsError(f"{name}: must be {what} {bound}, got {raw!r}")
        return value
    return parse


def number(low: float = 0.0, what: str = "a number") -> Callable[[str, str], float]:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < low:
            raise SettingsError(f"{name}: must be {what} of at least {low:g}, got {raw!r}")
        return value
    return parse


def switch(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise SettingsError(f"{name}: must be 1/true/yes or 0/false/no, got {raw!r}")


def choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip()
        if value not in choices:
            raise SettingsError(f"{name}: must be one of {', '.join(choices)}, got {raw!r}")
        return value
    return parse


def seconds(name: str, raw: str) -> float:
    """A number of seconds; the range is checked by `check_lease`/`check_poll`."""
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise SettingsError(f"{name}: {raw!r} is not a number of seconds")
    return value


def checked(parse: Callable[[str, str], float], check: Callable[[float], float]
             ) -> Callable[[str, str], float]:
    def run(name: str, raw: str) -> float:
        try:
            return check(parse(name, raw))
        except SettingsError as exc:
            message = str(exc)
            raise SettingsError(message if message.startswith(name) else f"{name}: {message}"
                                ) from None
    return run


@dataclass(frozen=True)
class Variable:
    """One environment variable: the field it fills and how its text is read."""

    name: str
    field: str
    parse: Callable[[str, str], Any]
    #: Shown masked by `makeright settings`.
    secret: bool = False
    #: The Flask config key it feeds, for the app settings.
    app_key: str | None = None
