"""One log line per action, as key=value pairs, so a grep or a log shipper can read them.

Only identifiers, states and platform messages are logged; never settings, tokens or reply
text, which keeps credentials out of logs without having to scrub them.
"""
from __future__ import annotations

import logging

from connectors.text import quote

logger = logging.getLogger("makeright.pipeline")


def event(action: str, level: int = logging.INFO, **fields: object) -> None:
    """Log `action=<action> key=value ...`; fields keep their given order."""
    if not logger.isEnabledFor(level):
        return
    parts = [f"action={action}"] + [f"{key}={quote(value)}" for key, value in fields.items()]
    logger.log(level, " ".join(parts))
