"""A small, fixed data set whose figures were worked out by hand (see test_figures.py).

Reviews go through the same paths as production — `ingest`, `save_draft`, `states.transition` —
and then get fixed timestamps, so every figure has one right answer on both engines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from connectors.base import Review
from plugin.classify import Classification
from plugin.drafts import Draft
from plugin.store import states
from plugin.store.models import DraftRow, ReviewRow, RevisionRow
from plugin.store.reviews import ingest, save_draft, text_hash

END = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
START = END - timedelta(days=30)
PLACE = {"dock": ("google_business", "Harbour Lane", "Dock St"),
         "mill": ("google_business", "Harbour Lane", "Mill Rd"),
         "play": ("google_play", "com.harbour.app", ""),
         "ios": ("app_store", "123456", "")}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Spec:
    key: str
    place: str
    rating: int
    created: str
    categories: list[str] = field(default_factory=list)
    language: str = "en"
    escalation: list[str] = field(default_factory=list)
    # The drafts, oldest first: (engine, offer id or None).
    drafts: list[tuple[str, str | None]] = field(default_factory=list)
    approved: str | None = None
    posted: str | None = None
    approver: str = "alice"
    skipped: bool = False
    # Customer edits: (recorded at, new rating), in order.
    edits: list[tuple[str, int]] = field(default_factory=list)
    # A follow-up draft saved after the customer's edit (engine, offer id, at).
    follow_up: tuple[str, str | None, str] | None = None


SPECS = [
    Spec("r01", "dock", 1, "2026-11-03T09:00", ["delivery"],
         drafts=[("offline", "refund_delivery_fee")],
         posted="2026-11-03T15:00", edits=[("2026-11-05T10:00", 4)],
         follow_up=("llm", None, "2026-11-05T11:00")),
    Spec("r02", "dock", 2, "2026-11-04T10:00", ["damaged"], drafts=[("llm", "replace_item")],
         posted="2026-11-05T10:00", approver="bob", edits=[("2026-11-07T09:00", 3)]),
    Spec("r03", "mill", 1, "2026-11-10T08:00", ["wait", "staff"], language="de",
         drafts=[("offline", "goodwill_voucher"), ("human", "next_visit_discount")],
         posted="2026-11-12T08:00", edits=[("2026-11-13T08:00", 2)]),
    Spec("r04", "mill", 5, "2026-11-12T12:00", drafts=[("offline", None)],
         posted="2026-11-12T14:00"),
    Spec("r05", "play", 1, "2026-11-15T00:00", ["crash"], drafts=[("offline", "app_callback")],
         posted="2026-11-15T12:00", edits=[("2026-11-16T00:00", 1)]),
    Spec("r06", "play", 1, "2026-11-16T06:00", ["login"], language="es",
         edits=[("2026-11-16T08:00", 2)], drafts=[("llm", "app_callback")],
         posted="2026-11-19T06:00"),
    Spec("r07", "ios", 3, "2026-11-20T00:00", ["performance"], drafts=[("offline", None)],
         posted="2026-11-20T04:00"),
    Spec("r08", "ios", 1, "2026-11-21T00:00", ["ads"], skipped=True),
    Spec("r09", "dock", 1, "2026-11-22T00:00", ["delivery"], drafts=[("llm", "goodwill_voucher")],
         posted="2026-11-23T00:00", edits=[("2026-11-24T00:00", 3), ("2026-11-26T00:00", 5)]),
    Spec("r10", "dock", 4, "2026-11-24T10:00", skipped=True),
    Spec("r11", "mill", 1, "2026-11-25T00:00", ["damaged"], escalation=["injury"],
         drafts=[("offline", None)]),
    Spec("r12", "play", 2, "2026-11-27T12:00", ["crash"], drafts=[("offline", "app_callback")]),
    Spec("r13", "play", 1, "2026-11-28T12:00", ["crash"], drafts=[("offline", "app_callback")],
         approved="2026-11-29T00:00"),
    Spec("r14", "dock", 1, "2026-11-30T00:00", ["delivery"]),
    Spec("r15", "ios", 2, "2026-11-30T20:00", ["crash"]),
    Spec("r16", "dock", 2, "2026-11-26T00:00", ["delivery"],
         drafts=[("offline", "refund_delivery_fee")], posted="2026-11-28T00:00"),
    Spec("r17", "play", 5, "2026-11-29T00:00", drafts=[("offline", None)],
         posted="2026-11-29T01:00"),
    Spec("r18", "mill", 1, "2026-11-27T00:00", ["cleanliness"], language="fr",
         escalation=["discrimination"], drafts=[("offline", None)]),
    # Before the period: excluded from every period figure, but still waiting (r20).
    Spec("r19", "dock", 1, "2026-10-20T00:00", ["delivery"],
         drafts=[("offline", "refund_delivery_fee")], posted="2026-10-21T00:00",
         edits=[("2026-11-02T00:00", 3)]),
    Spec("r20", "dock", 2, "2026-10-25T00:00", ["delivery"]),
    Spec("r21", "mill", 1, "2026-11-08T00:00", ["staff"], escalation=["legal"],
         drafts=[("human", None)], posted="2026-11-09T00:00"),
]


def _review(spec: Spec, rating: int, version: int = 0) -> Review:
    platform, source, location = PLACE[spec.place]
    return Review(platform=platform, external_id=spec.key, rating=rating,
                  created_at=at(spec.created), source=source, author="Sam Lee",
                  text=f"Review {spec.key}, version {version}.",
                  metadata={"location": location} if location else {})


def _classification(spec: Spec) -> Classification:
    return Classification(language=spec.language, language_confidence=1.0,
                          categories=list(spec.categories),
                          escalation_reasons=list(spec.escalation))


def _save_draft(session, policy, row: ReviewRow, spec: Spec, engine: str, offer_id: str | None,
                when: datetime, actor: str = "system") -> DraftRow:
    draft = Draft(text=f"Reply to {spec.key} by {engine}.", engine=engine,
                  language=spec.language, platform=row.platform,
                  escalation_reasons=list(spec.escalation),
                  offer=policy.offer(offer_id) if offer_id else None)
    stored = save_draft(session, row, draft, actor=actor)
    stored.created_at = when
    session.flush()
    return stored


def _edit(session, spec: Spec, rating: int, when: datetime, version: int) -> ReviewRow:
    """The customer edits the review; the revision it leaves behind gets the edit's time."""
    row = ingest(session, _review(spec, rating, version), _classification(spec)).row
    newest = session.scalar(select(func.max(RevisionRow.id))
                            .where(RevisionRow.review_id == row.id))
    session.execute(update(RevisionRow).where(RevisionRow.id == newest).values(recorded_at=when))
    return row


def seed(database, policy) -> dict[str, int]:
    """Store the data set; returns review ids by key."""
    ids: dict[str, int] = {}
    with database.session() as session:
        for spec in SPECS:
            created = at(spec.created)
            row = ingest(session, _review(spec, spec.rating), _classification(spec)).row
            row.received_at = created + timedelta(minutes=5)
            posted = at(spec.posted) if spec.posted else None
            edits = list(enumerate(spec.edits, start=1))
            for number, (when, rating) in edits:
                if posted is None or at(when) < posted:
                    row = _edit(session, spec, rating, at(when), number)
            for number, (engine, offer_id) in enumerate(spec.drafts):
                actor = "carol" if engine == "human" else "system"
                _save_draft(session, policy, row, spec, engine, offer_id,
                            created + timedelta(minutes=10 + number), actor)
            if spec.skipped:
                states.transition(session, row, states.SKIPPED, actor="alice", reason="spam")
            approved = at(spec.approved) if spec.approved else (
                posted - timedelta(minutes=10) if posted else None)
            if approved is not None:
                reply = session.get(DraftRow, row.current_draft_id)
                states.transition(session, row, states.APPROVED, actor=spec.approver,
                                  approved_by=spec.approver, approved_at=approved,
                                  approved_text_hash=text_hash(reply.text))
            if posted is not None:
                states.transition(session, row, states.POSTING, actor="worker")
                states.transition(session, row, states.POSTED, actor="worker",
                                  posted_at=posted, post_state="published")
            for number, (when, rating) in edits:
                if posted is not None and at(when) >= posted:
                    row = _edit(session, spec, rating, at(when), number)
            if spec.follow_up:
                engine, offer_id, when = spec.follow_up
                _save_draft(session, policy, row, spec, engine, offer_id, at(when))
            ids[spec.key] = row.id
    return ids
