"""The `sources` table and the quota log that keeps platform call counts across restarts.

Settings are split on the way in: fields the connector's schema marks secret go into one
Fernet token (`secrets`), everything else stays readable JSON so `source list` and the web
screens can show it without the key.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..store.models import Base, utcnow

DEFAULT_INTERVAL = 15 * 60


class SourceRow(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets: Mapped[str | None] = mapped_column(Text)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=DEFAULT_INTERVAL)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Kept as a column, not computed from last_sync_at + interval, so "what is due" is one
    # indexed comparison on both engines and a worker can claim rows with SKIP LOCKED.
    next_sync_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_sync_at: Mapped[datetime | None]
    last_sync_result: Mapped[str | None] = mapped_column(String(200))
    last_sync_error: Mapped[str | None] = mapped_column(Text)
    # The policy folder this source's reviews follow (the default policy when empty), and
    # one of its [locations.<id>] for this source's own sign-off and contact.
    policy: Mapped[str | None] = mapped_column(String(1000))
    policy_location: Mapped[str | None] = mapped_column(String(100))

    def __repr__(self) -> str:
        """Name and kind only: the ciphertext is no secret, but it is noise in every log line."""
        return f"SourceRow(id={self.id!r}, name={self.name!r}, kind={self.kind!r})"

    def schedule_after(self, moment: datetime) -> None:
        self.next_sync_at = moment + timedelta(seconds=self.interval_seconds)


class QuotaCallRow(Base):
    """One counted platform call; rows older than the longest window are pruned as we go."""

    __tablename__ = "source_quota_calls"
    __table_args__ = (Index("ix_source_quota_calls_lookup", "source_id", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
