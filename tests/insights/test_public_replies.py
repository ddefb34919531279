"""Insights count replies by what the platform shows: published, pending and rejected."""
from __future__ import annotations

from datetime import timedelta

from plugin.classify import classifier_for
from plugin.insights.cohort import Period
from plugin.insights.figures import compute
from plugin.insights.render import as_table
from plugin.store.models import utcnow
from plugin.store.reviews import ingest


def test_public_replies_are_counted_by_state(database, policy, make_review):
    now = utcnow()
    shown = [("published", 3), ("posted", 2), ("rejected", 1), (None, 1), (None, 0)]
    with database.session() as session:
        for number, (state, count) in enumerate(shown):
            for copy in range(count or 1):
                review = make_review(external_id=f"pub-{number}-{copy}",
                                     text="food was cold, servicio lentísimo")
                row = ingest(session, review, classifier_for(policy).classify(review)).row
                row.review_created_at = now - timedelta(days=2)
                if count:  # (None, 0): a review nobody replied to yet
                    row.posted_at, row.public_state = now - timedelta(days=1), state
        session.flush()
        report = compute(session, policy, Period(now - timedelta(days=7), now))

    # A reply posted before states were tracked (None) was shown when it was posted.
    assert report.to_json()["public_replies"] == {"published": 4, "pending": 2, "rejected": 1}
    assert report.replied == 7
    line = next(text for text in as_table(report).splitlines() if "published / pending" in text)
    assert "4 / 2 / 1" in line
