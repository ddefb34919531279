"""The dashboard's figures from the daily tallies equal the figures counted from every review, on
both engines, for periods with and without partial days, with and without a brand, after
reviews are stored, answered, edited, moved in time and deleted, folded or not."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from plugin.insights.cohort import Period
from plugin.insights.figures import compute
from plugin.store import tallies
from plugin.store.models import ReviewRow

NOW = datetime(2026, 11, 20, 15, 42, 7, tzinfo=UTC)
PLACES = [("google_business", "gbp-quay", "Dock St"), ("google_business", "gbp-quay", "Mill Rd"),
          ("google_business", "gbp-market", "Mercado Sé"), ("google_play", "com.harbour.app", ""),
          ("app_store", "123456", "")]
TEXTS = ["Pizza came cold, 40 min late", "waiter rude af", "Beste Torte der Stadt!!",
         "الطلب وصل متأخر جدا", "parking is a nightmre", "app crashes evry time i pay",
         "Delivery bahut late thi", "配達が遅かった", "cake dry n overpriced 😡"]
STATUSES = ["new", "drafted", "needs_attention", "approved", "posted", "posted", "posted",
            "skipped", "failed"]


def reviews(count: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        platform, source, location = rng.choice(PLACES)
        created = NOW - timedelta(minutes=rng.randrange(45 * 24 * 60))
        status = rng.choice(STATUSES)
        posted = created + timedelta(hours=rng.expovariate(1 / 12)) if status == "posted" \
            else None
        rows.append({
            "platform": platform, "external_id": f"d{i}", "source": source,
            "author": rng.choice(["Zoë", "Ahmed K.", "priya", "Jan"]),
            "rating": rng.randint(1, 5), "title": "", "text": rng.choice(TEXTS),
            "language": "en", "review_created_at": created,
            "metadata": {"location": location} if location else {},
            "content_hash": f"h{i}", "categories": [], "escalation_reasons": [],
            "escalated": False, "answerable": True, "status": status, "status_reason": "",
            "status_changed_at": created, "received_at": created, "follow_up": False,
            "policy": rng.choice([None, "harbour", "mill"]), "has_offer": False,
            "violation_count": 0, "posted_at": posted, "approved_at": posted,
            "public_state": rng.choice([None, "published", "posted", "rejected"])
            if posted else None, "attempts": 0, "public_checks": 0})
    return rows


PERIODS = [
    Period(NOW - timedelta(days=30), NOW),  # partial days at both ends
    Period(datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 15, tzinfo=UTC)),  # whole
    Period(datetime(2026, 11, 3, 23, 59, tzinfo=UTC), datetime(2026, 11, 5, 0, 1, tzinfo=UTC)),
    Period(NOW - timedelta(hours=5), NOW),  # inside one day
]


def figures(session, policy, period: Period, brand: str | None, daily: bool) -> dict:
    found = compute(session, policy, period, brand=brand, daily=daily).to_json()
    found.pop("generated_at")
    return found


def assert_both_ways_equal(database, policy) -> None:
    with database.session(read_only=True) as session:
        for period in PERIODS:
            for brand in (None, "harbour"):
                raw = figures(session, policy, period, brand, daily=False)
                assert figures(session, policy, period, brand, daily=True) == raw, \
                    (period, brand)
        assert raw["received"] or period is not PERIODS[0]


@pytest.mark.parametrize("fold", [False, True])
def test_daily_tallies_give_the_figures_the_rows_give(database, policy, fold):
    rng = random.Random(5)
    with database.session() as session:
        session.execute(insert(ReviewRow), reviews(400, rng))
        # A row stored before the input rules: an escaped lone surrogate in its metadata.
        session.execute(text("UPDATE reviews SET metadata = :meta WHERE external_id = 'd7'"),
                        {"meta": '{"location": "Caf\\udce9 Quay"}'})
    with database.session(read_only=True) as session:
        first = figures(session, policy, PERIODS[0], None, daily=False)
    assert first["received"] > 200 and first["replied"] > 50
    assert_both_ways_equal(database, policy)

    with database.session() as session:
        ids = list(session.scalars(select(ReviewRow.id).order_by(ReviewRow.id)))
        picked = rng.sample(ids, 60)
        for review_id in picked[:15]:
            session.execute(update(ReviewRow).where(ReviewRow.id == review_id).values(
                status="posted", posted_at=NOW - timedelta(hours=2), public_state=None))
        for review_id in picked[15:25]:
            session.execute(update(ReviewRow).where(ReviewRow.id == review_id).values(
                public_state="rejected", public_reason="SPAM"))
        for review_id in picked[25:35]:
            session.execute(update(ReviewRow).where(ReviewRow.id == review_id).values(
                rating=rng.randint(1, 5), status="skipped", posted_at=None, public_state=None))
        for review_id in picked[35:45]:
            session.execute(update(ReviewRow).where(ReviewRow.id == review_id).values(
                review_created_at=NOW - timedelta(days=rng.randint(0, 40), minutes=13),
                policy="harbour", meta={"location": "Neue Straße"}))
        session.execute(delete(ReviewRow).where(ReviewRow.id.in_(picked[45:])))
        if fold:
            assert tallies.fold(session) > 0
    assert_both_ways_equal(database, policy)
