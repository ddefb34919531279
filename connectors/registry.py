"""The installed connectors and the platforms they speak for, found once through the
`makeright.connectors` entry-point group, as Datasette and `llm` find their plugins.

A third party adds a platform by installing a package: its connector class carries the
platform's facts (name, label, reply limit), and every list of platforms (the review format,
the queue's filter, the REST enum, the policy's `[platforms.*]` tables) is derived from here.
"Other" is always present, for reviews that name no platform.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from .base import Connector
from .untrusted import InputError

GROUP = "makeright.connectors"
OTHER = "other"


@dataclass(frozen=True)
class Platform:
    """What MakeRight needs to know about a review platform, read off its connectors."""

    name: str
    label: str
    reply_limit: int
    reply_limit_unit: str

    @classmethod
    def of(cls, connector: type[Connector]) -> Platform:
        return cls(connector.platform, connector.platform_label, connector.reply_limit,
                   connector.reply_limit_unit)


#: The facts of "other" when no installed connector speaks for it: the base class's defaults.
OTHER_PLATFORM = Platform(OTHER, Connector.platform_label, Connector.reply_limit,
                          Connector.reply_limit_unit)


@cache
def available() -> dict[str, type[Connector]]:
    """Every installed connector by entry-point name; loaded once per process."""
    found: dict[str, type[Connector]] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise TypeError(f"entry point {ep.name} ({ep.value}) is not a Connector subclass")
        if cls.reply_limit_unit not in ("chars", "bytes"):
            raise TypeError(f"entry point {ep.name}: reply_limit_unit must be 'chars' or "
                            f"'bytes', not {cls.reply_limit_unit!r}")
        found[ep.name] = cls
    return dict(sorted(found.items()))


def get(kind: str) -> type[Connector]:
    """The connector class installed under an entry-point name."""
    try:
        return available()[kind]
    except KeyError:
        names = ", ".join(available()) or "none installed"
        raise KeyError(f"unknown connector {kind!r} (available: {names})") from None


@cache
def platforms() -> dict[str, Platform]:
    """Every platform an installed connector speaks for, by name, "other" last.

    Two connectors of one platform (the App Store's API and its public feed) must agree on
    its facts; a disagreement is a packaging mistake, refused when the connectors load.
    """
    found: dict[str, Platform] = {}
    for kind, cls in available().items():
        facts = Platform.of(cls)
        if found.setdefault(facts.name, facts) != facts:
            raise TypeError(f"connector {kind} describes platform {facts.name!r} differently "
                            f"from another connector of it: {facts} against {found[facts.name]}")
    other = found.pop(OTHER, OTHER_PLATFORM)
    return {**found, OTHER: other}


def platform_names() -> tuple[str, ...]:
    return tuple(platforms())


def platform(name: str | None) -> Platform:
    """The facts of a platform; a name no connector registers (a review stored before its
    connector was uninstalled) gets those of "other", so it can still be shown and drafted."""
    return platforms().get(name or OTHER) or platforms()[OTHER]


def label(name: str | None) -> str:
    """The name a person reads; an unregistered platform is shown as it is spelled."""
    found = platforms().get(name or OTHER)
    return found.label if found else (name or "")


def labels() -> dict[str, str]:
    return {name: facts.label for name, facts in platforms().items()}


def reply_limit(name: str | None) -> tuple[int, str]:
    """(limit, unit) of a reply on the platform; unit is "chars" or "bytes"."""
    facts = platform(name)
    return facts.reply_limit, facts.reply_limit_unit


def check_platform(value: object, field: str = "platform") -> str:
    """A platform name from input, refused with the registered ones listed if unknown."""
    if not isinstance(value, str) or value not in platforms():
        raise InputError(field, f"must be one of {', '.join(platforms())}")
    return value
