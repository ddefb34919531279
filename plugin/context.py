"""The services a request works with: the app's database, policy, drafter and connector resolver.

They live on the Flask app (set up by the factory, or by a host app that mounts MakeRight), and
every blueprint reaches them through these functions, so no feature needs to import the factory.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import current_app, g, has_request_context, request
from sqlalchemy.orm import Session, object_session

from connectors.base import Connector, Review

from . import intake
from .drafting import Drafter
from .drafting.translation import Translator
from .errors import ActionError
from .policy import Policy, load_policy
from .secrets import SecretKeyError
from .sources.brands import intake_sources, policy_for_source
from .sources.service import SourceError
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


def get_intake_sources(reviews: Iterable[Review], default: Policy) -> intake.Sources:
    """The brands and read-only feeds among the sources these reviews name, read in a session
    of its own before the door opens the one it writes in (none when no review names one)."""
    names = {review.source for review in reviews if review.source}
    if not names:
        return intake.NO_SOURCES
    with get_db().session() as session:
        return intake_sources(session, names, default)


def get_drafter() -> Drafter:
    return current_app.extensions["makeright.drafter"]


def get_translator() -> Translator | None:
    """The reader's translator; None when no model is configured (nothing is translated)."""
    return current_app.extensions.get("makeright.translator")


def get_connector_for() -> Callable[..., Connector]:
    """The app's way from a source name to its connector (keyword `session` optional).

    The factory puts `plugin.sources.resolve.connector_for` there, bound to the app's database
    and instance folder. `app.extensions["makeright.connector_for"]` is the one documented place
    a host app, or a test, puts another callable of the same shape; it is not a setting, so
    nothing in the environment or a config file can replace it.
    """
    return current_app.extensions["makeright.connector_for"]


def connector_of(row: Any) -> Connector:
    """The connector to post a stored review through; a source that cannot be used is a
    refusal a person can act on, never a crash."""
    try:
        return get_connector_for()(row.source, session=object_session(row))
    except (SourceError, SecretKeyError, ValueError) as exc:
        # A missing source, keys that cannot open its secrets, or settings its connector
        # refuses.
        raise ActionError("no_source", f"{exc}. Copy the reply and post it on the platform "
                                       "instead.") from None


#: Requests that only read: their sessions take no write lock and refuse writes.
SAFE_METHODS = frozenset({"GET", "HEAD"})


def reading() -> bool:
    """Whether this request only reads (GET or HEAD); False outside a request."""
    return has_request_context() and request.method in SAFE_METHODS


def db_session() -> Session:
    """The request's database session, opened on first use and closed at teardown; a read
    session for a GET or HEAD, so showing a page never queues behind a writer."""
    if "makeright_session" not in g:
        database = get_db()
        g.makeright_session = (database.read_sessions if reading() else database.sessions)()
    return g.makeright_session


def request_unit():
    """`Database.session` for a request's own unit of work: read-only for a GET or HEAD."""
    return get_db().session(read_only=reading())


def close_session(_exc: BaseException | None) -> None:
    session = g.pop("makeright_session", None)
    if session is not None:
        session.rollback()
        session.close()
