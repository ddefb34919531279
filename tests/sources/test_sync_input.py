"""A platform listing obeys the rules of every other way in: repeats are stored once, a review
that breaks the format is counted and skipped, and the rest of the sync goes on."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from connectors.base import Connector, Review
from plugin.commands.main import cli
from plugin.sources import sync as sync_module
from plugin.sources.sync import sync_source
from plugin.store.models import AuditRow, ReviewRow

from .conftest import NAMES, add_args


def _review(external_id: str, text: str, **fields) -> Review:
    return Review(platform="google_play", external_id=external_id, rating=2,
                  created_at=datetime(2026, 11, 20, 10, tzinfo=UTC), text=text,
                  author="Ana", **fields)


class Listing(Connector):
    """A listing where a new review arrived between two pages, so one review shows twice."""

    platform = "google_play"

    def __init__(self, reviews):
        super().__init__({})
        self.reviews = reviews

    def fetch(self, since=None):
        yield from self.reviews


def test_repeats_are_stored_once_and_bad_reviews_are_counted(instance, fake, runner, tmp_path,
                                                            monkeypatch, policy, caplog):
    result = runner.invoke(cli, add_args("google_play", fake, tmp_path, monkeypatch))
    assert result.exit_code == 0, result.output
    name = NAMES["google_play"]
    listing = Listing([
        _review("gp-2", "Refund never arrived"),
        _review("gp-1", "App freezes on login"),
        _review("gp-1", "App freezes on login"),
        _review("gp-bad\nforged line", "Crash \x00 here"),
        _review("gp-3", "Dark mode \u202ehides buttons", metadata={"device": "Pixel\u200b 8"}),
    ])
    monkeypatch.setattr(sync_module, "connector_for", lambda *args, **kwargs: listing)
    db = instance.database()
    outcome = sync_source(db, name, policy)
    assert outcome.ok, outcome.error
    assert outcome.summary == "3 new, 0 updated, 0 unchanged, 1 rejected"
    with db.session() as session:
        stored = {row.external_id: row for row in session.scalars(select(ReviewRow))}
        assert sorted(stored) == ["gp-1", "gp-2", "gp-3"]
        assert stored["gp-3"].text == "Dark mode hides buttons"
        assert stored["gp-3"].meta == {"device": "Pixel 8"}
        edits = session.scalar(select(func.count()).select_from(AuditRow)
                               .where(AuditRow.action == "edited_by_customer"))
    assert edits == 0
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and "\n" not in refused[0] and "text" in refused[0]
    db.dispose()
