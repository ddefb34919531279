"""Migrated databases for tests, built once per test process and reused by every test.

Running the Alembic migrations takes seconds on a busy machine, and most tests only need the
current schema with no rows in it. So each test process (each pytest-xdist worker is one)
migrates once and hands every test a copy of the result:

- SQLite: a migrated file, copied per test (a millisecond for a file this small).
- PostgreSQL: a migrated schema of its own, emptied before each test. Deleting the rows of a
  score of small tables is far cheaper than migrating, cloning a database from a template or
  truncating (TRUNCATE creates new files for every table and index and syncs them at commit).

The migration tests take an empty database instead (`empty_database_url`) and run real
upgrades and downgrades on it.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from plugin.store import migrate
from plugin.store.db import Database, postgres_engine_url

#: Schemas this suite creates start with this; the creation time follows, so a later run can
#: drop what a killed run left behind without touching a run still in progress.
SCHEMA_PREFIX = "mrtest_"
STALE_SECONDS = 6 * 3600


def worker_name() -> str:
    """The pytest-xdist worker running this process (`gw0`...), or `main` without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def migrated_sqlite(folder: Path) -> Path:
    """A migrated SQLite file, checkpointed so the file alone holds the whole schema."""
    path = folder / "migrated.sqlite"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database.engine)
    database.dispose()  # the last connection to close folds the WAL into the file
    return path


def copy_sqlite(template: Path, target: Path) -> Path:
    """Copy a database file, created owner-only like every database file MakeRight makes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out, template.open("rb") as source:
        shutil.copyfileobj(source, out)
    return target


def schema_url(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@dataclass
class PostgresTemplate:
    """One migrated schema for one test process, emptied before each test that uses it."""

    server_url: str
    schema: str = ""
    url: str = ""
    _engine: Engine | None = None
    _reset_sql: str = ""
    _head: str | None = None
    _tables: list[str] = field(default_factory=list)

    def start(self) -> PostgresTemplate:
        self._drop_stale()
        self._build()
        return self

    def fresh(self) -> str:
        """The schema's URL with every table empty and every sequence back at 1.

        If a test changed the schema itself (a downgrade) or left a lock that outlasts the
        wait, the schema is built again."""
        assert self._engine is not None
        try:
            with self._engine.begin() as connection:
                version = connection.exec_driver_sql(
                    "SELECT max(version_num) FROM alembic_version").scalar()
                if version == self._head:
                    connection.exec_driver_sql(self._reset_sql)
                    return self.url
        except DBAPIError:  # the version table is gone, or a leaked lock outlasted the wait
            pass
        self._drop()
        self._build()
        return self.url

    def close(self) -> None:
        self._drop()

    def _build(self) -> None:
        self.schema = f"{SCHEMA_PREFIX}{int(time.time())}_{worker_name()}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(postgres_engine_url(self.server_url))
        try:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        finally:
            admin.dispose()
        self.url = schema_url(self.server_url, self.schema)
        self._engine = create_engine(postgres_engine_url(self.url), pool_size=1)
        migrate.upgrade(self._engine)
        self._head = migrate.head()
        reflected = MetaData()
        reflected.reflect(self._engine)
        # Children before parents, so no foreign key ever points at a deleted row.
        self._tables = [table.name for table in reversed(reflected.sorted_tables)
                        if table.name != "alembic_version"]
        with self._engine.connect() as connection:
            seeded = [name for name in self._tables if connection.exec_driver_sql(
                f'SELECT EXISTS (SELECT 1 FROM "{name}")').scalar()]
            sequences = connection.execute(text(
                "SELECT sequence_name FROM information_schema.sequences "
                "WHERE sequence_schema = :schema"), {"schema": self.schema}).scalars().all()
        # Emptying would lose rows a migration inserted; none does, and this keeps it so.
        assert not seeded, f"migrations left rows in {seeded}: emptying would remove them"
        statements = ["SET LOCAL lock_timeout = '20s'"]
        statements += [f'DELETE FROM "{name}"' for name in self._tables]
        if sequences:
            statements.append("SELECT " + ", ".join(
                f"setval('\"{name}\"', 1, false)" for name in sequences))
        self._reset_sql = "; ".join(statements)

    def _drop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.schema:
            _drop_schemas(self.server_url, [self.schema])
            self.schema = ""

    def _drop_stale(self) -> None:
        """Drop the schemas runs killed hours ago left behind (their names carry the time)."""
        admin = create_engine(postgres_engine_url(self.server_url))
        try:
            with admin.connect() as connection:
                names = connection.execute(text(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"),
                    {"prefix": f"{SCHEMA_PREFIX}%"}).scalars().all()
        finally:
            admin.dispose()
        cutoff = time.time() - STALE_SECONDS
        stale = [name for name in names
                 if name.split("_")[1].isdigit() and int(name.split("_")[1]) < cutoff]
        if stale:
            _drop_schemas(self.server_url, stale)


def _drop_schemas(server_url: str, names: list[str]) -> None:
    admin = create_engine(postgres_engine_url(server_url))
    try:
        with admin.begin() as connection:
            for name in names:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        admin.dispose()
