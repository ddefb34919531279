"""Template filters and names shared by every page.

Everything here returns plain strings for Jinja to escape; nothing builds markup, so review and
draft text can only ever reach the page as text.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from connectors import registry
from connectors.untrusted import NOT_TEXT, escaped

from ..actions import ROLES

STATUS_LABELS = {"new": "New", "drafted": "Drafted", "draft_failed": "Draft failed",
                 "needs_attention": "Needs attention", "approved": "Approved",
                 "posting": "Posting", "posted": "Posted", "failed": "Failed",
                 "skipped": "Skipped", "open": "Open", "all": "All"}
META_LABELS = {"app_version": "App version", "territory": "Territory", "location": "Location",
               "device": "Device", "android_version": "Android", "os_version": "OS"}


def stars(rating: int | None) -> str:
    rating = rating or 0
    return "★" * rating + "☆" * (5 - rating)


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit: '5 min', '3 h', '2 d'."""
    if moment is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    if seconds < 3600:
        return f"{max(seconds // 60, 1)} min"
    if seconds < 86400 * 2:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def hours_since(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return (datetime.now(UTC) - moment).total_seconds() / 3600


def when(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def shown(value: object) -> object:
    """Every value a template prints, made encodable: rows stored before the input rules may
    hold a lone surrogate, which would otherwise fail the whole page. `str.replace` keeps markup
    markup (and the escapes put in contain no HTML)."""
    if isinstance(value, str) and NOT_TEXT.search(value):
        for char in set(NOT_TEXT.findall(value)):
            value = value.replace(char, escaped(char))
    return value


def install(app: Flask) -> None:
    app.jinja_env.finalize = shown
    app.jinja_env.filters.update(stars=stars, age=age, when=when, hours_since=hours_since)
    app.jinja_env.globals.update(PLATFORM_LABELS=registry.labels(), STATUS_LABELS=STATUS_LABELS,
                                 META_LABELS=META_LABELS, ROLES=ROLES)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
