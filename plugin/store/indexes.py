"""Indexes the queue needs at a hundred thousand reviews.

The status counts group by status under any mix of filters, so one narrow index holds status and
every filter column: counting reads that index alone, never the wide review rows. The list is
read in sort order from an index and stops after one page.
"""
from sqlalchemy import Index
from sqlalchemy.engine import Engine

from .models import ReviewRow

QUEUE_FACETS = Index("ix_reviews_queue_facets", ReviewRow.status, ReviewRow.rating,
                     ReviewRow.platform, ReviewRow.language, ReviewRow.escalated,
                     ReviewRow.has_offer, ReviewRow.violation_count, ReviewRow.source)
BY_CREATED = Index("ix_reviews_created_id", ReviewRow.review_created_at, ReviewRow.id)
BY_RATING = Index("ix_reviews_rating_created_id", ReviewRow.rating, ReviewRow.review_created_at,
                  ReviewRow.id)


def ensure_statistics(engine: Engine) -> None:
    """Give SQLite's planner table statistics once the reviews table has rows.

    Without them SQLite picks the single-column indexes for filtered counts and reads thousands
    of wide rows; with them it reads the covering index above. PostgreSQL keeps its own.
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
