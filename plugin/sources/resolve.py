"""Which connector speaks for a stored review: the bundled demo source, or a configured one."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from sqlalchemy.orm import object_session

from connectors.base import Connector
from connectors.demo import DemoConnector

from ..errors import ActionError
from ..secrets import SecretKeyError
from ..store.models import ReviewRow
from .service import SourceError, connector_for_review

DEMO_SOURCE = "demo"
DEMO_REPLIES = "demo_replies.jsonl"


def demo_reviews_file() -> Path:
    return Path(str(files("plugin") / "data" / "demo_reviews.jsonl"))


def demo_connector(instance: Path, reviews: Path | None = None) -> DemoConnector:
    """The demo source: bundled reviews in, replies appended to a file in the instance folder."""
    return DemoConnector({"reviews": str(reviews or demo_reviews_file()),
                          "replies": str(Path(instance) / DEMO_REPLIES)})


def connector_for(row: ReviewRow, instance: Path) -> Connector:
    """The connector to post through; a review without a configured source cannot be posted."""
    if row.source == DEMO_SOURCE:
        return demo_connector(instance)
    session = object_session(row)
    try:
        if session is None:
            raise SourceError("the review is not attached to a database session")
        return connector_for_review(session, row)
    except (SourceError, SecretKeyError, ValueError) as exc:
        # A missing source, keys that cannot open its secrets, or settings its connector
        # refuses: a refusal a person can act on, never a crash.
        raise ActionError("no_source", f"{exc}. Copy the reply and post it on the platform "
                                       "instead.") from None
