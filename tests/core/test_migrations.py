from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from plugin.store import migrate
from plugin.store.db import Database
from plugin.store.search import is_search_table
from plugin.tables import metadata


def test_upgrade_downgrade_upgrade_without_drift(empty_database_url):
    db = Database(empty_database_url)
    migrate.upgrade(db.engine)
    assert migrate.is_current(db.engine)
    assert {"reviews", "drafts", "audit_log", "review_revisions"} <= set(
        inspect(db.engine).get_table_names())
    migrate.downgrade(db.engine, "base")
    assert "reviews" not in inspect(db.engine).get_table_names()
    migrate.upgrade(db.engine)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            "include_name": lambda name, type_, _: not (type_ in ("table", "index", "column")
                                                        and is_search_table(name))})
        assert compare_metadata(context, metadata) == []
    db.dispose()


def test_sqlite_connections_are_tuned(sqlite_url):
    db = Database(sqlite_url)
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()
