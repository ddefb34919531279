"""Tables of the core: reviews, their edits, draft versions and the audit log.

Columns that filters and the queue sort on are real columns (status, platform, rating, language,
has_offer, violation_count), not JSON, so the queue stays fast at a million reviews; their
indexes are in `store.indexes`.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both engines; SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class ReviewRow(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_reviews_platform_external_id"),
        Index("ix_reviews_status_created", "status", "review_created_at"),
        Index("ix_reviews_status_post_requested_at", "status", "post_requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(200), default="")
    author: Mapped[str] = mapped_column(String(300), default="")
    rating: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(35))
    declared_language: Mapped[str | None] = mapped_column(String(35))
    review_created_at: Mapped[datetime]
    review_updated_at: Mapped[datetime | None]
    platform_reply: Mapped[str | None] = mapped_column(Text)
    platform_reply_at: Mapped[datetime | None]
    url: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    escalation_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    answerable: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(32), default="new")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    current_draft_id: Mapped[int | None] = mapped_column(Integer)
    # The policy (brand, and location if any) the current draft followed.
    policy: Mapped[str | None] = mapped_column(String(200))
    has_offer: Mapped[bool] = mapped_column(Boolean, default=False)
    violation_count: Mapped[int] = mapped_column(Integer, default=0)
    # Approval and posting: the approved text's hash is what the poster must send byte for byte.
    approved_by: Mapped[str | None] = mapped_column(String(150))
    approved_at: Mapped[datetime | None]
    approved_text_hash: Mapped[str | None] = mapped_column(String(64))
    posted_at: Mapped[datetime | None]
    post_state: Mapped[str | None] = mapped_column(String(40))
    # What the platform shows of our reply: posted (accepted), published or rejected, with the
    # platform's reason for a rejection and how many reads it took (see pipeline.publication).
    public_state: Mapped[str | None] = mapped_column(String(20))
    public_reason: Mapped[str | None] = mapped_column(String(80))
    public_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    # A person's "post it now": the worker takes these first, and even while the pipeline is
    # paused. Valid for one approval only (the state machine clears it when approval ends).
    post_requested_by: Mapped[str | None] = mapped_column(String(150))
    post_requested_at: Mapped[datetime | None]
    # A person's audited permission to replace one specific public reply we did not write:
    # the hash (`normal_hash`) of the reply they saw, so a different one is never replaced.
    overwrite_by: Mapped[str | None] = mapped_column(String(150))
    overwrite_reason: Mapped[str | None] = mapped_column(Text)
    overwrite_reply_hash: Mapped[str | None] = mapped_column(String(64))
    # The person (user name) the review is given to; None while nobody has it.
    assignee: Mapped[str | None] = mapped_column(String(150))

    drafts: Mapped[list[DraftRow]] = relationship(
        back_populates="review", order_by="DraftRow.version", cascade="all, delete-orphan",
        foreign_keys="DraftRow.review_id")
    audit: Mapped[list[AuditRow]] = relationship(
        back_populates="review", order_by="AuditRow.id", cascade="all, delete-orphan")
    revisions: Mapped[list[RevisionRow]] = relationship(
        back_populates="review", order_by="RevisionRow.id", cascade="all, delete-orphan")


class RevisionRow(Base):
    """What the review said before the customer edited it."""

    __tablename__ = "review_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    rating: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    review_updated_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    review: Mapped[ReviewRow] = relationship(back_populates="revisions")


class DraftRow(Base):
    """One version of the reply to a review; a person's edit is a new version, never an update."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("review_id", "version", name="uq_drafts_review_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(35))
    offer_id: Mapped[str | None] = mapped_column(String(64))
    violations: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    instruction: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(150), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)

    review: Mapped[ReviewRow] = relationship(back_populates="drafts", foreign_keys=[review_id])


class AuditRow(Base):
    """Who did what, when, from which state to which, and why. Never updated or deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"),
                                                  index=True)
    actor: Mapped[str] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    review: Mapped[ReviewRow | None] = relationship(back_populates="audit")
