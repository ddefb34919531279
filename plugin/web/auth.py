"""Signing in and out, the role check every page uses, and the `next=` rule.

Failed sign-ins are counted per account and per address in the database, so the limit holds
across workers and restarts, and the limit is checked before the password so a correct guess
during a lockout gains nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TypeVar
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_user, logout_user

from ..accounts import (User, UserRow, authenticate, clear_failures, recent_failures,
                        record_failure)
from ..app import db_session, get_db
from ..extensions import login_manager

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    # Its own short transaction: a streamed response (an export) must not find the request
    # still holding SQLite's write lock from loading the user.
    with get_db().session() as session:
        row = session.get(UserRow, int(user_id))
        return User.of(row) if row is not None and row.active else None


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`.

    Browsers treat a backslash like a slash and ignore tabs and newlines in URLs, so `/\\evil`,
    `\\\\evil` and `/\\t/evil` are as external as `//evil` and are refused along with any scheme
    or host.
    """
    if not target:
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def role_required(role: str) -> Callable[[F], F]:
    """Refuse (403) anyone below `role`; the actions check again, this only answers early."""
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_app.config.get("LOGIN_DISABLED"):
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(role):
                abort(403, f"This needs the {role} role; you are {current_user.role}.")
            return view(*args, **kwargs)
        return wrapped  # type: ignore[return-value]
    return decorator


def require_login() -> object | None:
    """A `before_request` hook: every page of a blueprint that uses it needs a signed-in user."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _client_ip() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login():
    default = url_for("queue.index")
    target = safe_next(request.values.get("next"), default)
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    if request.method == "GET":
        return render_template("login.html", next=target, name="", error=None)
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    config = current_app.config
    window = timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"]))
    db = db_session()
    by_name, by_ip = recent_failures(db, name, _client_ip(), window)
    if by_name >= int(config["LOGIN_MAX_FAILURES"]) \
            or by_ip >= int(config["LOGIN_MAX_FAILURES_PER_IP"]):
        minutes = int(config["LOGIN_WINDOW_MINUTES"])
        return render_template("login.html", next=target, name=name,
                               error=f"Too many failed sign-ins. Wait {minutes} minutes and try "
                                     "again."), 429, {"Retry-After": str(minutes * 60)}
    row = authenticate(db, name, password) if name and password else None
    if row is None:
        record_failure(db, name, _client_ip(), window)
        db.commit()
        return render_template("login.html", next=target, name=name,
                               error="That name and password do not match an active user."), 401
    clear_failures(db, name)
    user = User.of(row)
    db.commit()
    session.clear()
    login_user(user)
    session.permanent = True
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
