"""Tables and indexes the insights feature adds to the core schema.

Every period figure selects reviews by when the customer wrote them; without an index on that
column each one is a full scan of the reviews table.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..store.models import Base, ReviewRow, utcnow

Index("ix_reviews_review_created_at", ReviewRow.review_created_at)


class DigestSubscription(Base):
    """Someone who asked for the daily digest by email.

    `last_sent_for` is the day the last digest covered, so a scheduler that fires twice does
    not send the same day twice.
    """

    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    user_name: Mapped[str | None] = mapped_column(String(150))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_for: Mapped[date | None] = mapped_column(Date)
