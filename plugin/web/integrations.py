"""Admin page for what runs without a person: the posting kill switch, outbound event
endpoints with their delivery attempts, and the secrets integrators sign webhooks with.

New secrets are shown once, on the page that created them, and never stored in the session.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..context import db_session
from ..outbound.events import EVENTS
from ..outbound.models import WebhookEndpoint, WebhookSecret
from ..outbound.subscriptions import (
    SubscriptionError,
    add_endpoint,
    create_inbound_secret,
    enable_endpoint,
    recent_attempts,
    remove_endpoint,
    revoke_inbound_secret,
)
from ..pipeline.control import is_paused, set_paused
from .auth import require_login, role_required

bp = Blueprint("integrations", __name__, url_prefix="/settings/integrations")
bp.before_request(require_login)


def _page(error: str | None = None, created: dict | None = None, status: int = 200):
    db = db_session()
    return render_template(
        "settings/integrations.html", paused=is_paused(db), events=list(EVENTS),
        endpoints=db.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all(),
        secrets=db.scalars(select(WebhookSecret).order_by(WebhookSecret.id)).all(),
        attempts=recent_attempts(db, limit=20), error=error, created=created,
        saved=request.args.get("saved")), status


def _run(change, *args):
    """Apply one change and come back to the page, or show why it was refused."""
    db = db_session()
    try:
        result = change(db, *args)
        db.commit()
    except SubscriptionError as exc:
        db.rollback()
        return _page(str(exc), status=422)
    return result


@bp.get("/")
@role_required("admin")
def index():
    return _page()


@bp.post("/pause")
@role_required("admin")
def pause():
    paused = request.form.get("paused") == "1"
    reason = request.form.get("reason", "")[:500]
    db = db_session()
    set_paused(db, paused, current_user.name, reason)
    db.commit()
    return redirect(url_for("integrations.index", saved="paused" if paused else "resumed"))


@bp.post("/endpoints")
@role_required("admin")
def add():
    def change(db, url, events):
        row, secret = add_endpoint(db, url, events)
        return _page(created={"what": f"endpoint {row.id} ({row.url})", "secret": secret})
    return _run(change, request.form.get("url", "").strip(), request.form.getlist("events"))


def _then(change, saved: str):
    """A change that ends back on the page with a short confirmation."""
    def run(db, *args):
        change(db, *args)
        return redirect(url_for("integrations.index", saved=saved))
    return run


@bp.post("/endpoints/<id:endpoint_id>/remove")
@role_required("admin")
def remove(endpoint_id: int):
    return _run(_then(remove_endpoint, "removed"), endpoint_id)


@bp.post("/endpoints/<id:endpoint_id>/enable")
@role_required("admin")
def enable(endpoint_id: int):
    return _run(_then(enable_endpoint, "enabled"), endpoint_id)


@bp.post("/secrets")
@role_required("admin")
def add_secret():
    def change(db, label):
        row, secret = create_inbound_secret(db, label)
        return _page(created={"what": f"inbound secret for {row.label}", "secret": secret})
    return _run(change, request.form.get("label", ""))


@bp.post("/secrets/<id:secret_id>/revoke")
@role_required("admin")
def revoke(secret_id: int):
    return _run(_then(revoke_inbound_secret, "revoked"), secret_id)
