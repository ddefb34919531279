"""Consistent backups and safe restores of the embedded SQLite database.

A live SQLite file must never be copied: the WAL holds committed transactions the main file does
not have yet. `VACUUM INTO` writes one consistent, checkpointed file from a read transaction, so
the app keeps running (and writing) while it runs. On restore, stale -wal/-shm files next to the
target would be replayed onto the restored database and corrupt it, so they are removed first.
PostgreSQL has its own tools (pg_dump / PITR); this module refuses it with directions.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from ..store.db import database_url

TABLES = ("reviews", "drafts", "review_revisions", "audit_log")
PG_GUIDANCE = (
    "This database is PostgreSQL; back it up with PostgreSQL's own tools, for example\n"
    "  pg_dump --format=custom --file=makeright.dump \"$MAKERIGHT_DATABASE_URL\"\n"
    "and restore with\n"
    "  pg_restore --clean --if-exists --dbname=\"$MAKERIGHT_DATABASE_URL\" makeright.dump\n"
    "(or use your provider's snapshots / point-in-time recovery)."
)


class BackupError(Exception):
    """A backup or restore refused for a reason the operator can act on."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    counts: dict[str, int]


def sqlite_path(url: str | None = None) -> Path:
    """The database file behind the configured URL, or BackupError for PostgreSQL."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(PG_GUIDANCE)
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(parsed.database).resolve()


def check(path: Path) -> dict[str, int]:
    """Run `PRAGMA integrity_check` on a database file and count its rows (read-only)."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened: {exc}") from None
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError(f"{path} fails the integrity check: {'; '.join(result[:5])}")
        names = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" not in names or "reviews" not in names:
            raise BackupError(f"{path} is not a MakeRight database")
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in TABLES if t in names}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    finally:
        connection.close()


def backup(target: Path, url: str | None = None, *, force: bool = False) -> Snapshot:
    """Write a consistent copy of the live database to `target`, private to its owner."""
    source = sqlite_path(url)
    target = target.resolve()
    if target == source:
        raise BackupError("the backup cannot overwrite the database itself")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    connection = sqlite3.connect(source, timeout=30)
    try:
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("VACUUM INTO ?", (str(partial),))
    finally:
        connection.close()
    os.chmod(partial, 0o600)
    try:
        counts = check(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return Snapshot(target, counts)


def restore(snapshot: Path, url: str | None = None, *, force: bool = False) -> Snapshot:
    """Replace the configured database with `snapshot`. Stop the app and workers first."""
    snapshot = snapshot.resolve()
    target = sqlite_path(url)
    if snapshot == target:
        raise BackupError("the snapshot is the database itself")
    expected = check(snapshot)
    if target.exists() and not force:
        raise BackupError(f"{target} exists; restoring replaces it, so pass --force "
                          "(stop the web app and workers first)")
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(f".{target.name}.restoring")
    incoming.unlink(missing_ok=True)
    source = sqlite3.connect(f"{snapshot.as_uri()}?mode=ro", uri=True)
    destination = sqlite3.connect(incoming)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    os.chmod(incoming, 0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(incoming, target)
    counts = check(target)
    if counts != expected:
        raise BackupError(f"the restored database has {counts} rows, the snapshot {expected}")
    return Snapshot(target, counts)
