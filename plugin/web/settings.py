"""Admin pages: people and roles, the review sources, and a read-only view of the policy.

The policy is edited as files (prompts/) and checked with `makeright policy check`; showing it
here lets an admin confirm what the running app enforces without shell access.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from connectors import registry

from ..accounts import AccountError, UserRow, add_user, set_role
from ..actions import ROLES
from ..context import db_session, get_policy
from .auth import require_login, role_required

bp = Blueprint("settings", __name__, url_prefix="/settings")
bp.before_request(require_login)


def _users_page(error: str | None = None, status: int = 200, form: dict | None = None):
    users = db_session().scalars(select(UserRow).order_by(UserRow.name)).all()
    return render_template("settings/users.html", users=users, roles=ROLES, error=error,
                           form=form or {}, saved=request.args.get("saved")), status


@bp.route("/")
@role_required("admin")
def index():
    return redirect(url_for("settings.users"))


@bp.route("/users")
@role_required("admin")
def users():
    return _users_page()


@bp.route("/users", methods=["POST"])
@role_required("admin")
def add():
    db = db_session()
    name = request.form.get("name", "").strip()
    role = request.form.get("role", "")
    try:
        add_user(db, name, role, request.form.get("password", ""))
        db.commit()
    except AccountError as exc:
        db.rollback()
        return _users_page(str(exc), 422, {"name": name, "role": role})
    return redirect(url_for("settings.users", saved=1))


@bp.route("/users/<id:user_id>", methods=["POST"])
@role_required("admin")
def change(user_id: int):
    db = db_session()
    row = db.get(UserRow, user_id)
    if row is None:
        return _users_page("There is no such user.", 404)
    try:
        set_role(db, row, request.form.get("role", row.role),
                 request.form.get("active") == "1")
        db.commit()
    except AccountError as exc:
        db.rollback()
        return _users_page(str(exc), 422)
    return redirect(url_for("settings.users", saved=1))


@bp.route("/policy")
@role_required("admin")
def policy():
    limits = {name: (facts.reply_limit, facts.reply_limit_unit)
              for name, facts in registry.platforms().items()}
    return render_template("settings/policy.html", policy=get_policy(), limits=limits)


from . import snippets as _snippets  # noqa: E402,F401  (its routes register on bp)
from . import sources as _sources  # noqa: E402,F401  (its routes register on bp)
