"""The database, its -wal and -shm, and the instance folder are private to their owner."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from plugin.store import migrate
from plugin.store.db import Database, database_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The common default, under which SQLite alone would create 0644 files."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_database_and_its_wal_and_shm_are_0600(tmp_path, open_umask):
    path = tmp_path / "data" / "makeright.sqlite"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database.engine)
    with database.engine.connect() as connection:  # an open reader keeps -wal and -shm
        connection.exec_driver_sql("SELECT count(*) FROM reviews")
        files = {p.name: mode(p) for p in path.parent.iterdir()}
    database.dispose()
    assert files == {"makeright.sqlite": 0o600, "makeright.sqlite-wal": 0o600,
                     "makeright.sqlite-shm": 0o600}


def test_the_default_instance_folder_is_0700(tmp_path, monkeypatch, open_umask):
    monkeypatch.delenv("MAKERIGHT_DATABASE_URL", raising=False)
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(tmp_path / "instance"))
    url = database_url()
    assert mode(tmp_path / "instance") == 0o700
    Database(url).dispose()
    assert mode(tmp_path / "instance" / "makeright.sqlite") == 0o600


def test_files_left_readable_by_an_older_version_are_tightened(tmp_path, monkeypatch,
                                                               open_umask):
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    path = folder / "makeright.sqlite"
    first = Database(f"sqlite:///{path}")
    migrate.upgrade(first.engine)
    first.dispose()
    for item in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        item.touch()
        os.chmod(item, 0o644)
    monkeypatch.delenv("MAKERIGHT_DATABASE_URL", raising=False)
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(folder))
    Database().dispose()
    assert mode(folder) == 0o700
    assert {p.name: mode(p) for p in folder.iterdir() if p.name.startswith("makeright")} == {
        "makeright.sqlite": 0o600, "makeright.sqlite-wal": 0o600, "makeright.sqlite-shm": 0o600}
