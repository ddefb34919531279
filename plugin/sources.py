"""Which connector speaks for a stored review.

Reviews remember the name of the source they came from. Only the bundled demo source exists so
far; configured sources (OAuth accounts, App Store keys) resolve here once they can be stored.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from connectors.base import Connector
from connectors.demo import DemoConnector

from .actions import ActionError
from .store.models import ReviewRow

DEMO_SOURCE = "demo"
DEMO_REPLIES = "demo_replies.jsonl"


def demo_reviews_file() -> Path:
    return Path(str(files("plugin") / "data" / "demo_reviews.jsonl"))


def demo_connector(instance: Path, reviews: Path | None = None) -> DemoConnector:
    """The demo source: bundled reviews in, replies appended to a file in the instance folder."""
    return DemoConnector({"reviews": str(reviews or demo_reviews_file()),
                          "replies": str(Path(instance) / DEMO_REPLIES)})


def connector_for(row: ReviewRow, instance: Path) -> Connector:
    if row.source == DEMO_SOURCE:
        return demo_connector(instance)
    raise ActionError("no_source", "No source is configured for this review "
                                   f"({row.source or 'no source name'}); copy the reply and "
                                   "post it on the platform instead.")
