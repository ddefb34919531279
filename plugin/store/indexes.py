"""Indexes the queue needs at a million reviews.

The queue filters on one value and reads a page in sort order: for each filter column there is
an index on (that column, written, id), so a filtered page, oldest or newest first, is read from
the index in order and stops after one page, and its keyset cursor (`web.filters`) starts where
the previous page ended instead of skipping rows. The same index serves a plain lookup of the
column, so it replaces the single-column one. The "Lowest rating" order has (rating, written,
id). No index leads with status: the open tab is six statuses, and an index on them makes the
planner read every open review in six ranges and sort them, where reading (written, id) in
order and skipping closed reviews stops after one page.

The tabs' counts come from `store.tallies`, not from these indexes.
"""
from sqlalchemy import Index
from sqlalchemy.engine import Engine

from .models import ReviewRow

#: Columns the queue filters on with an equality, each led into the (written, id) order.
FILTERED = ("platform", "source", "policy", "language", "escalated", "has_offer", "assignee")
BY_FILTER = tuple(Index(f"ix_reviews_{name}_created_id", getattr(ReviewRow, name),
                        ReviewRow.review_created_at, ReviewRow.id) for name in FILTERED)
BY_CREATED = Index("ix_reviews_created_id", ReviewRow.review_created_at, ReviewRow.id)
BY_RATING = Index("ix_reviews_rating_created_id", ReviewRow.rating, ReviewRow.review_created_at,
                  ReviewRow.id)

#: The dashboard's open escalations: the escalated reviews of the statuses still open.
ESCALATED_BY_STATUS = Index("ix_reviews_escalated_status", ReviewRow.escalated, ReviewRow.status)


def ensure_statistics(engine: Engine) -> None:
    """Give SQLite's planner table statistics once the reviews table has rows.

    Without them SQLite may pick an index that matches the filter but not the sort, and sort
    every matching row to show fifty. PostgreSQL keeps its own.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        tables = set(connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
        if "reviews" not in tables:
            return
        if "sqlite_stat1" in tables and connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_stat1 WHERE tbl = 'reviews' LIMIT 1").first():
            return
        if not connection.exec_driver_sql("SELECT 1 FROM reviews LIMIT 1").first():
            return
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
