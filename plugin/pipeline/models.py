"""Tables the pipeline adds: shared settings (the kill switch) and the log of reply attempts.

Every write we send to a platform is preceded by a `reply_attempts` row committed before the
HTTP call, so after any crash we still know which texts we may have put on the platform; that is
how a reply found there later is recognised as ours rather than someone else's.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..store.models import Base, ReviewRow, utcnow


class SettingRow(Base):
    """A setting any process can flip (the CLI, the web settings page, a worker)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(150), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReplyAttemptRow(Base):
    """One attempt to write a reply: what text (by hash), who, and how it ended."""

    __tablename__ = "reply_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    worker: Mapped[str] = mapped_column(String(120))
    text_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(32), default="started")
    detail: Mapped[str] = mapped_column(Text, default="")


# The posting claim reads approved reviews oldest approval first; without this index every claim
# sorts the whole approved backlog, which is what stops a queue of thousands from scaling.
Index("ix_reviews_status_approved_at", ReviewRow.status, ReviewRow.approved_at)
