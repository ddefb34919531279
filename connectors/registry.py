"""Find connectors through the `makeright.connectors` entry-point group, as Datasette and `llm`
find their plugins, so a third party adds a platform by installing a package."""
from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from .base import Connector

GROUP = "makeright.connectors"


@cache
def available() -> dict[str, type[Connector]]:
    found: dict[str, type[Connector]] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise TypeError(f"entry point {ep.name} ({ep.value}) is not a Connector subclass")
        found[ep.name] = cls
    return dict(sorted(found.items()))


def get(kind: str) -> type[Connector]:
    try:
        return available()[kind]
    except KeyError:
        names = ", ".join(available()) or "none installed"
        raise KeyError(f"unknown connector {kind!r} (available: {names})") from None
