"""Backups taken while a writer runs, restores that drop stale WAL files, and the refusals."""
from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from plugin.classify import classifier_for
from plugin.commands.main import cli
from plugin.insights import backup as backups
from plugin.store import migrate
from plugin.store.db import Database
from plugin.store.reviews import ingest
from tests.waiting import wait_for


@pytest.fixture(autouse=True)
def _keys(tmp_path, monkeypatch):
    """The installation's secret keys sign backups; each test has its own."""
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", Fernet.generate_key().decode())


@pytest.fixture
def live(sqlite_url):
    database = Database(sqlite_url)
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
        wait_for(lambda: sum(written) >= 50, 60, "the writer to store 50 reviews")
        snapshot = backups.backup(tmp_path / "snap.sqlite", sqlite_url)
        during = sum(written)
        # The writer carried on after the snapshot.
        wait_for(lambda: sum(written) >= during + 10, 60, "the writer to carry on")
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
        backups.restore(junk, sqlite_url, force=True, trust_unsigned=True)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.close()
    with pytest.raises(backups.BackupError, match="not a MakeRight database"):
        backups.restore(other, sqlite_url, force=True, trust_unsigned=True)


def test_postgres_backup_is_refused_with_guidance(monkeypatch, tmp_path):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "x")])
    assert result.exit_code == 1 and "pg_dump" in result.output
    assert not (tmp_path / "x").exists()


# --- signatures -------------------------------------------------------------------------------

def _edit(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    with connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


@pytest.fixture
def signed_backup(live, sqlite_url, tmp_path, monkeypatch):
    from plugin.accounts import add_user

    with live.session() as session:
        add_user(session, "viewer1", "viewer", "correct horse battery staple")
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", sqlite_url)
    made = CliRunner().invoke(cli, ["backup", str(tmp_path / "b.sqlite")])
    assert made.exit_code == 0, made.output
    assert "signed in b.sqlite.sig" in made.output
    return tmp_path / "b.sqlite"


def test_a_signed_backup_restores(signed_backup):
    signature = backups.signature_path(signed_backup)
    assert signature.stat().st_mode & 0o777 == 0o600
    done = CliRunner().invoke(cli, ["restore", "--force", str(signed_backup)])
    assert done.exit_code == 0 and "signature ok" in done.output


def test_a_backup_edited_by_hand_is_refused(signed_backup, sqlite_url):
    _edit(signed_backup, "UPDATE users SET role = 'admin' WHERE name = 'viewer1'")
    refused = CliRunner().invoke(cli, ["restore", "--force", str(signed_backup)])
    assert refused.exit_code == 1 and "does not match its signature" in refused.output
    assert "--trust-unsigned" in refused.output
    with Database(sqlite_url).engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT role FROM users WHERE name = 'viewer1'").scalar() == "viewer"
    trusted = CliRunner().invoke(cli, ["restore", "--force", "--trust-unsigned",
                                       str(signed_backup)])
    assert trusted.exit_code == 0 and "signature NOT checked" in trusted.output


def test_a_trigger_is_never_restored_even_when_trusted(signed_backup):
    _edit(signed_backup, "CREATE TRIGGER promote AFTER INSERT ON audit_log BEGIN "
                         "UPDATE users SET role = 'admin'; END")
    for extra in ([], ["--trust-unsigned"]):
        refused = CliRunner().invoke(cli, ["restore", "--force", *extra, str(signed_backup)])
        assert refused.exit_code == 1, extra
    assert "trigger promote" in refused.output


def test_a_search_trigger_altered_by_hand_is_refused(signed_backup):
    _edit(signed_backup, "DROP TRIGGER review_search_insert")
    _edit(signed_backup, "CREATE TRIGGER review_search_insert AFTER INSERT ON reviews BEGIN "
                         "UPDATE users SET role = 'admin'; END")
    refused = CliRunner().invoke(cli, ["restore", "--force", "--trust-unsigned",
                                       str(signed_backup)])
    assert refused.exit_code == 1 and "trigger review_search_insert" in refused.output


def test_an_unsigned_backup_needs_trust(signed_backup):
    backups.signature_path(signed_backup).unlink()
    refused = CliRunner().invoke(cli, ["restore", "--force", str(signed_backup)])
    assert refused.exit_code == 1 and "is not signed" in refused.output
    trusted = CliRunner().invoke(cli, ["restore", "--force", "--trust-unsigned",
                                       str(signed_backup)])
    assert trusted.exit_code == 0, trusted.output


def test_a_backup_from_another_installation_is_refused(signed_backup, monkeypatch):
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", Fernet.generate_key().decode())
    refused = CliRunner().invoke(cli, ["restore", "--force", str(signed_backup)])
    assert refused.exit_code == 1 and "other secret keys" in refused.output


def test_old_backups_verify_after_a_key_rotation(signed_backup, monkeypatch):
    import os

    old = os.environ["MAKERIGHT_SECRET_KEYS"]
    monkeypatch.setenv("MAKERIGHT_SECRET_KEYS", f"{Fernet.generate_key().decode()},{old}")
    done = CliRunner().invoke(cli, ["restore", "--force", str(signed_backup)])
    assert done.exit_code == 0, done.output


def test_a_forged_signature_file_is_refused(signed_backup):
    backups.signature_path(signed_backup).write_text('{"format": "something else"}')
    refused = CliRunner().invoke(cli, ["restore", "--force", str(signed_backup)])
    assert refused.exit_code == 1 and "not a MakeRight backup signature" in refused.output
