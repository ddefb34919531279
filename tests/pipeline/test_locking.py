"""Row locks on both engines through one helper: PostgreSQL holds the rows (or passes over
held ones with skip_locked); SQLite, whose writers already take turns, gets no clause."""
from __future__ import annotations

from sqlalchemy import select

from plugin.sources.models import SourceRow
from plugin.store.locking import locked, refresh_locked
from plugin.store.models import utcnow


def _add_sources(database, *names):
    with database.session() as session:
        for name in names:
            session.add(SourceRow(name=name, kind="demo", settings={}, interval_seconds=900,
                                  next_sync_at=utcnow()))


def _sql(database, **options) -> str:
    with database.session() as session:
        query = locked(select(SourceRow), session, **options)
        return str(query.compile(dialect=session.get_bind().dialect)).upper()


def test_the_clause_is_there_only_where_the_engine_has_row_locks(database):
    plain, skipping = _sql(database), _sql(database, skip_locked=True)
    if database.engine.dialect.name == "postgresql":
        assert "FOR UPDATE" in plain and "SKIP LOCKED" not in plain
        assert "FOR UPDATE SKIP LOCKED" in skipping
    else:
        assert "FOR UPDATE" not in plain and "FOR UPDATE" not in skipping


def test_skip_locked_passes_over_rows_another_transaction_holds(database):
    _add_sources(database, "one", "two")
    query = select(SourceRow).order_by(SourceRow.name)
    first = database.sessions()
    try:
        held = first.scalars(locked(query.limit(1), first, skip_locked=True)).all()
        assert [row.name for row in held] == ["one"]
        if database.engine.dialect.name != "postgresql":
            return  # one SQLite writer at a time: a second would wait for the first to end
        second = database.sessions()
        try:
            rest = second.scalars(locked(query, second, skip_locked=True)).all()
            assert [row.name for row in rest] == ["two"]
        finally:
            second.rollback()
            second.close()
    finally:
        first.rollback()
        first.close()


def test_refresh_locked_keeps_pending_changes(database):
    _add_sources(database, "one")
    with database.session() as session:
        row = session.scalars(select(SourceRow)).one()
        row.interval_seconds = 60
        refresh_locked(session, row)
        assert row.interval_seconds == 60
