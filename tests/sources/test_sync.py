"""Sync: cursor safety on failure, edits, the database quota counter, and due sources."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from plugin import intake as intake_module
from plugin.commands.main import cli
from plugin.sources.models import QuotaCallRow, SourceRow
from plugin.sources.quota import DatabaseQuota
from plugin.sources.service import get_source
from plugin.sources.sync import claim_due_sources, due_sources, sync_source
from plugin.store.models import ReviewRow
from plugin.store.reviews import ingest_many

from .conftest import NAMES, add_args


def _add(runner, platform, fake, tmp_path, monkeypatch, *extra: str) -> str:
    result = runner.invoke(cli, add_args(platform, fake, tmp_path, monkeypatch) + list(extra))
    assert result.exit_code == 0, result.output
    return NAMES[platform]


def _stored(db, name: str) -> list[str]:
    with db.session() as session:
        return sorted(session.scalars(select(ReviewRow.external_id)
                                      .where(ReviewRow.source == name)))


def test_a_failed_page_keeps_the_cursor_and_the_next_sync_loses_nothing(
        instance, fake, runner, tmp_path, monkeypatch, policy):
    seeded = fake.seed("google_play", 6)
    name = _add(runner, "google_play", fake, tmp_path, monkeypatch)
    calls = []

    def failing_after_first_page(session, items, **kwargs):
        calls.append(len(items))
        if len(calls) > 1:
            raise RuntimeError("disk full")
        return ingest_many(session, items, **kwargs)

    monkeypatch.setattr(intake_module, "ingest_many", failing_after_first_page)
    db = instance.database()
    result = sync_source(db, name, policy, batch_size=2)
    assert not result.ok and result.error == "disk full"
    assert (result.new, calls) == (2, [2, 2])
    assert _stored(db, name) == sorted(r.id for r in seeded[:2])
    with db.session() as session:
        row = get_source(session, name)
        assert row.cursor is None
        assert (row.last_sync_result, row.last_sync_error) == ("failed", "disk full")

    monkeypatch.setattr(intake_module, "ingest_many", ingest_many)
    again = sync_source(db, name, policy, batch_size=2)
    assert again.summary == "4 new, 0 updated, 2 unchanged"
    assert _stored(db, name) == sorted(r.id for r in seeded)
    with db.session() as session:
        assert get_source(session, name).cursor == "2026-11-20T12:00:00Z"
    db.dispose()


def test_edited_reviews_are_updated_and_only_newer_ones_fetched(instance, fake, runner,
                                                                tmp_path, monkeypatch, policy):
    fake.seed("google_business", 4)
    name = _add(runner, "google_business", fake, tmp_path, monkeypatch)
    db = instance.database()
    assert sync_source(db, name, policy).summary == "4 new, 0 updated, 0 unchanged"
    fake.edit("google_business", 2, "Changed my mind: the cake was fine, the box was not.")
    listed_before = fake.count("GET", "/reviews?")
    result = sync_source(db, name, policy)
    assert result.summary == "0 new, 1 updated, 0 unchanged"
    assert result.cursor == "2026-11-20T13:00:00Z"
    assert fake.count("GET", "/reviews?") == listed_before + 1
    with db.session() as session:
        edited = session.scalar(select(ReviewRow).where(
            ReviewRow.external_id == fake.reviews["google_business"][0].id))
        assert edited.text.startswith("Changed my mind") and len(edited.revisions) == 1
    db.dispose()


def test_the_database_quota_stops_google_play_before_the_limit(instance, fake, runner,
                                                               tmp_path, monkeypatch, policy):
    fake.seed("google_play", 6)
    name = _add(runner, "google_play", fake, tmp_path, monkeypatch,
                "--set", "read_quota_per_hour=2")
    result = runner.invoke(cli, ["sync", name])
    # Our own count said stop: the rest waits for the quota, and nothing failed.
    assert result.exit_code == 0, result.output
    assert ("budget-android: 4 new, 0 updated, 0 unchanged; the rest waits: Google Play: the "
            "read quota for com.example.budget (2 per hour) is used up; the next read is "
            "possible in 60 min") in result.stdout
    assert fake.count("GET", "/reviews?") == 2

    restarted = instance.database()
    before = datetime.now(UTC)
    again = sync_source(restarted, name, policy)
    assert again.ok and again.error is None
    assert "read quota for com.example.budget (2 per hour) is used up" in again.deferred
    assert fake.count("GET", "/reviews?") == 2
    with restarted.session() as session:
        row = get_source(session, name)
        assert row.cursor is None and row.last_sync_error is None
        assert row.last_sync_result.startswith("0 new, 0 updated, 0 unchanged; the rest waits")
        assert row.next_sync_at >= before + timedelta(minutes=59)
        # Two reads against the hourly quota, and the same two against the per-minute bucket.
        kinds = session.execute(select(QuotaCallRow.kind, func.count(QuotaCallRow.id))
                                .group_by(QuotaCallRow.kind)).all()
        assert sorted(count for _, count in kinds) == [2, 2]
        assert any(kind.endswith(":read") for kind, _ in kinds)
    restarted.dispose()


def test_database_quota_is_a_sliding_window_per_kind(instance, fake, runner, tmp_path,
                                                     monkeypatch):
    name = _add(runner, "app_store", fake, tmp_path, monkeypatch)
    db = instance.database()
    with db.session() as session:
        source_id = get_source(session, name).id
    now = [datetime(2026, 11, 20, 12, 0, tzinfo=UTC)]
    quota = DatabaseQuota(db.session, source_id, clock=lambda: now[0])
    assert [quota.take("read", 2, 3600) for _ in range(2)] == [0.0, 0.0]
    assert quota.take("reply", 2, 3600) == 0.0
    now[0] += timedelta(minutes=10)
    assert quota.take("read", 2, 3600) == pytest.approx(50 * 60)
    now[0] += timedelta(minutes=50)
    assert quota.take("read", 2, 3600) == 0.0
    restarted = DatabaseQuota(db.session, source_id, clock=lambda: now[0])
    assert restarted.take("read", 2, 3600) == 0.0
    assert restarted.take("read", 2, 3600) == pytest.approx(3600)
    db.dispose()


def test_due_sources_and_claims(instance, fake, runner, tmp_path, monkeypatch, policy):
    fake.seed("app_store", 1)
    first = _add(runner, "app_store", fake, tmp_path, monkeypatch)
    second = _add(runner, "google_business", fake, tmp_path, monkeypatch)
    db = instance.database()
    now = datetime.now(UTC) + timedelta(seconds=1)
    with db.session() as session:
        assert [row.name for row in due_sources(session, now)] == [first, second]
        session.execute(SourceRow.__table__.update().where(SourceRow.name == second)
                        .values(enabled=False))
    assert sync_source(db, first, policy).ok
    with db.session() as session:
        assert due_sources(session, now) == []
        assert [row.name for row in due_sources(session, now + timedelta(minutes=16))] == [first]
    assert claim_due_sources(db, now + timedelta(minutes=16)) == [first]
    assert claim_due_sources(db, now + timedelta(minutes=16)) == []
    db.dispose()
