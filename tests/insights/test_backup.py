"""Backups taken while a writer runs, restores that drop stale WAL files, and the refusals."""
from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.classify import classifier_for
from plugin.cli import cli
from plugin.insights import backup as backups
from plugin.store import migrate
from plugin.store.db import Database
from plugin.store.reviews import ingest


@pytest.fixture
def live(sqlite_url):
    database = Database(sqlite_url)
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def _write_reviews(database, policy, make_review, stop: threading.Event, written: list[int]):
    classifier = classifier_for(policy)
    while not stop.is_set():
        with database.session() as session:
            for _ in range(5):
                review = make_review(external_id=uuid.uuid4().hex)
                ingest(session, review, classifier.classify(review))
        written.append(5)


def _counts(path: Path) -> tuple[int, int]:
    connection = sqlite3.connect(path)
    try:
        reviews = connection.execute("SELECT count(*) FROM reviews").fetchone()[0]
        received = connection.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'received'").fetchone()[0]
        return reviews, received
    finally:
        connection.close()


def test_backup_while_writing_then_restore(live, sqlite_url, policy, make_review, tmp_path):
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_write_reviews,
                              args=(live, policy, make_review, stop, written))
    writer.start()
    try:
        while sum(written) < 50:
            time.sleep(0.01)
        snapshot = backups.backup(tmp_path / "snap.sqlite", sqlite_url)
        during = sum(written)
        while sum(written) < during + 10:  # the writer carried on after the snapshot
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
    assert snapshot.path.stat().st_mode & 0o777 == 0o600
    assert not Path(f"{snapshot.path}-wal").exists()
    reviews, received = _counts(snapshot.path)
    # Consistent: every review came with its audit row in the same transaction, whole batches only.
    assert reviews == received and reviews % 5 == 0 and 50 <= reviews <= sum(written)
    assert during >= 50 and _counts(Path(live.engine.url.database))[0] > reviews

    target = tmp_path / "restored.sqlite"
    Path(f"{target}-wal").write_bytes(b"stale write-ahead log from another life")
    Path(f"{target}-shm").write_bytes(b"\0" * 64)
    restored = backups.restore(snapshot.path, f"sqlite:///{target}")
    assert not Path(f"{target}-wal").exists() and not Path(f"{target}-shm").exists()
    assert restored.counts == snapshot.counts and restored.counts["reviews"] == reviews
    connection = sqlite3.connect(target)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
    reopened = Database(f"sqlite:///{target}")
    assert migrate.is_current(reopened.engine)
    reopened.dispose()


def test_restore_refuses_to_overwrite_without_force(live, sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", sqlite_url)
    runner = CliRunner()
    made = runner.invoke(cli, ["backup", str(tmp_path / "b.sqlite")])
    assert made.exit_code == 0 and "integrity ok" in made.output
    again = runner.invoke(cli, ["backup", str(tmp_path / "b.sqlite")])
    assert again.exit_code == 1 and "pass --force" in again.output
    refused = runner.invoke(cli, ["restore", str(tmp_path / "b.sqlite")])
    assert refused.exit_code == 1 and "pass --force" in refused.output
    done = runner.invoke(cli, ["restore", "--force", str(tmp_path / "b.sqlite")])
    assert done.exit_code == 0 and "restored" in done.output


def test_restore_refuses_damaged_or_foreign_files(live, sqlite_url, tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    with pytest.raises(backups.BackupError):
        backups.restore(junk, sqlite_url, force=True)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.close()
    with pytest.raises(backups.BackupError, match="not a MakeRight database"):
        backups.restore(other, sqlite_url, force=True)


def test_postgres_backup_is_refused_with_guidance(monkeypatch, tmp_path):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "x")])
    assert result.exit_code == 1 and "pg_dump" in result.output
    assert not (tmp_path / "x").exists()
