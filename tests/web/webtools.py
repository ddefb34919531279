"""Helpers shared by the web tests (conftest.py holds the fixtures)."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

from plugin.accounts import add_user
from plugin.app import create_app
from plugin.context import get_db
from plugin.store.db import Database
from tests.databases import copy_sqlite

PASSWORD = "correct horse battery"
ROLES = ("viewer", "editor", "approver", "admin")
#: The demo admin's password in the browser tests (MAKERIGHT_DEMO_PASSWORD).
DEMO_PASSWORD = "browser test password"
SECRET = secrets.token_hex(32)


def make_config(tmp_path: Path, **extra):
    return {"SECRET_KEY": SECRET, "TESTING": True, "WTF_CSRF_ENABLED": False,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite'}",
            "INSTANCE_PATH": str(tmp_path / "instance"), **extra}


# Set by the session fixture in conftest.py to a pytest-managed folder.
_TEMPLATE: dict[str, Path] = {}


def _template_database() -> Path:
    """A migrated database with one user per role, built once per run and copied per test
    (password hashing is deliberately slow, migrations are not free)."""
    if "path" not in _TEMPLATE:
        folder = _TEMPLATE["folder"]
        copy_sqlite(_TEMPLATE["migrated"], folder / "template.sqlite")
        database = Database(f"sqlite:///{folder / 'template.sqlite'}")
        with database.session() as session:
            for role in ROLES:
                add_user(session, role, role, PASSWORD)
        database.dispose()  # the last connection to close folds the WAL into the file
        _TEMPLATE["path"] = folder / "template.sqlite"
    return _TEMPLATE["path"]


def build_app(tmp_path: Path, **extra):
    """An app on its own copy of a migrated SQLite file with one user per role (each user is
    named after the role)."""
    copy_sqlite(_template_database(), tmp_path / "web.sqlite")
    return create_app(make_config(tmp_path, **extra))


def dispose(app) -> None:
    with app.app_context():
        get_db().dispose()


def login(client, name: str, password: str = PASSWORD):
    return client.post("/login", data={"name": name, "password": password})


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
