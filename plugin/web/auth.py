"""Signing in and out, changing one's password, the role check every page uses, and the
`next=` rule.

Failed sign-ins are counted in the database per (account, address) pair and per address, so
the delay holds across workers and restarts. It is checked before the password, so a correct
guess while waiting gains nothing, and a refused attempt counts as a failure. The address is
the client's as the trusted proxies report it (MAKERIGHT_PROXY_HOPS); without that setting
behind a proxy, every person would share the proxy's address.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from ..accounts import (
    AccountError,
    Throttle,
    User,
    UserRow,
    WrongPassword,
    authenticate,
    change_password,
    clear_failures,
    end_sessions,
    record_failure,
    session_user,
    wait_before_attempt,
)
from ..context import db_session, get_db
from ..extensions import login_manager
from ..language import LANGUAGE_NAMES

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The signed-in user, unless their sessions were ended after this cookie was issued."""
    # Its own short transaction: a streamed response (an export) must not find the request
    # still holding SQLite's write lock from loading the user.
    with get_db().session(read_only=True) as session:
        return session_user(session, session_id)


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


def require_login() -> ResponseReturnValue | None:
    """A `before_request` hook: every page of a blueprint that uses it needs a signed-in user."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _client_ip() -> str:
    """The client's address: ProxyFix has already put the trusted proxies' report in
    remote_addr when MAKERIGHT_PROXY_HOPS is set."""
    if request.headers.get("X-Forwarded-For") and not current_app.config.get("PROXY_HOPS") \
            and not current_app.extensions.get("makeright.proxy_warned"):
        current_app.extensions["makeright.proxy_warned"] = True
        log.warning("sign-in requests carry X-Forwarded-For but MAKERIGHT_PROXY_HOPS is 0: "
                    "everyone shares the proxy's address for sign-in throttling; set it to "
                    "the number of proxies in front of MakeRight")
    return request.remote_addr or "unknown"


def throttle() -> Throttle:
    config = current_app.config
    return Throttle(free_attempts=int(config["LOGIN_FREE_ATTEMPTS"]),
                    free_attempts_per_address=int(config["LOGIN_FREE_ATTEMPTS_PER_ADDRESS"]),
                    base_delay=float(config["LOGIN_BASE_DELAY_SECONDS"]),
                    max_delay=float(config["LOGIN_MAX_DELAY_SECONDS"]),
                    window=timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"])))


def _wait_message(seconds: int) -> str:
    after = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    return (f"Too many failed sign-ins for this name from your address. Try again in {after}; "
            "signing in from elsewhere is not affected.")


@bp.route("/login", methods=["GET", "POST"])
def login():
    default = url_for("queue.index")
    target = safe_next(request.values.get("next"), default)
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    if request.method == "GET":
        return render_template("login.html", next=target, name="", error=None)
    name = request.form.get("name", "").strip()[:150]
    password = request.form.get("password", "")
    rules, address = throttle(), _client_ip()
    db = db_session()
    wait = wait_before_attempt(db, name, address, rules)
    if wait:
        record_failure(db, name, address, rules)
        db.commit()
        return render_template("login.html", next=target, name=name,
                               error=_wait_message(wait)), 429, {"Retry-After": str(wait)}
    row = authenticate(db, name, password) if name and password else None
    if row is None:
        record_failure(db, name, address, rules)
        db.commit()
        return render_template("login.html", next=target, name=name,
                               error="That name and password do not match an active user."), 401
    clear_failures(db, name, address)
    user = User.of(row)
    db.commit()
    _sign_in(user)
    return redirect(target)


def _sign_in(user: User) -> None:
    session.clear()
    login_user(user)
    session.permanent = True


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends this person's sessions everywhere: a copied cookie stops working too."""
    if current_user.is_authenticated:
        db = db_session()
        row = db.get(UserRow, current_user.id)
        if row is not None:
            end_sessions(row)
            db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def _account_page(**values):
    """The Password and language page, with the person's reading language."""
    row = db_session().get(UserRow, current_user.id)
    return render_template("password.html", languages=LANGUAGE_NAMES,
                           chosen=row.language if row is not None else None,
                           language_saved=request.args.get("language_saved"), **values)


@bp.route("/account/language", methods=["POST"])
def language():
    """Choose the language reviews are translated into for this person (empty: the
    browser's)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    chosen = request.form.get("language", "")
    if chosen and chosen not in LANGUAGE_NAMES:
        return _account_page(error="Choose one of the listed languages.", saved=None), 422
    db = db_session()
    row = db.get(UserRow, current_user.id)
    if row is None:
        abort(404)
    row.language = chosen or None
    db.commit()
    return redirect(url_for("auth.password", language_saved=1))


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    """Change one's own password; every other session of this person ends."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if request.method == "GET":
        return _account_page(error=None, saved=request.args.get("saved"))
    db = db_session()
    row = db.get(UserRow, current_user.id)
    if row is None:
        abort(404)
    # Someone holding a stolen cookie must not get unlimited guesses at the current password
    # (and with it the account): the same delays as signing in.
    rules, address = throttle(), _client_ip()
    wait = wait_before_attempt(db, row.name, address, rules)
    if wait:
        record_failure(db, row.name, address, rules)
        db.commit()
        return _account_page(error=_wait_message(wait), saved=None), 429, \
            {"Retry-After": str(wait)}
    new = request.form.get("new_password", "")
    try:
        if new != request.form.get("confirm_password", ""):
            raise AccountError("The two new passwords differ.")
        change_password(row, request.form.get("current_password", ""), new)
    except WrongPassword as exc:
        db.rollback()
        record_failure(db, row.name, address, rules)
        db.commit()
        return _account_page(error=str(exc), saved=None), 422
    except AccountError as exc:
        db.rollback()
        return _account_page(error=str(exc), saved=None), 422
    user = User.of(row)
    db.commit()
    _sign_in(user)  # this browser carries on under the new generation
    return redirect(url_for("auth.password", saved=1))
