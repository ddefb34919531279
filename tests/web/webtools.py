"""Helpers shared by the web tests (conftest.py holds the fixtures)."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

from plugin.accounts import add_user
from plugin.app import create_app, get_db
from plugin.store import migrate

PASSWORD = "correct horse battery"
ROLES = ("viewer", "editor", "approver", "admin")
SECRET = secrets.token_hex(32)


def make_config(tmp_path: Path, **extra):
    return {"SECRET_KEY": SECRET, "TESTING": True, "WTF_CSRF_ENABLED": False,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite'}",
            "INSTANCE_PATH": str(tmp_path / "instance"), **extra}


def build_app(tmp_path: Path, **extra):
    """An app on a fresh migrated SQLite file with one user per role (named after the role)."""
    app = create_app(make_config(tmp_path, **extra))
    with app.app_context():
        db = get_db()
        migrate.upgrade(db.engine)
        with db.session() as session:
            for role in ROLES:
                add_user(session, role, role, PASSWORD)
    return app


def dispose(app) -> None:
    with app.app_context():
        get_db().dispose()


def login(client, name: str, password: str = PASSWORD):
    return client.post("/login", data={"name": name, "password": password})


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
