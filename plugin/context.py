"""The services a request works with: the app's database, policy, drafter and connector resolver.

They live on the Flask app (set up by the factory, or by a host app that mounts MakeRight), and
every blueprint reaches them through these functions, so no feature needs to import the factory.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g
from sqlalchemy.orm import Session, object_session

from .drafting import Drafter
from .policy import Policy, load_policy
from .sources.brands import policy_for_source
from .store.db import Database


def get_db() -> Database:
    return current_app.extensions["makeright.db"]


def get_policy(row: Any = None) -> Policy:
    """The company policy, or the one a review's source names (several brands in one
    install); reloaded when one of its files changes, so edits need no restart."""
    settings = current_app.extensions.get("makeright.settings")
    default = load_policy(current_app.config.get("POLICY_DIR") or None,
                          settings.paths if settings else None)
    if row is None or not getattr(row, "source", ""):
        return default
    # The row's own session: a second one would wait on the write lock that session holds.
    return policy_for_source(object_session(row) or db_session(), row.source, default)


def get_drafter() -> Drafter:
    return current_app.extensions["makeright.drafter"]


def get_connector_for() -> Callable:
    """Resolves a review to its connector; tests and configured sources replace it."""
    return current_app.extensions["makeright.connector_for"]


def db_session() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    if "makeright_session" not in g:
        g.makeright_session = get_db().sessions()
    return g.makeright_session


def close_session(_exc: BaseException | None) -> None:
    session = g.pop("makeright_session", None)
    if session is not None:
        session.rollback()
        session.close()
