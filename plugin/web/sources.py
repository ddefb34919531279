"""The sources page, on the settings blueprint: what `makeright source list/add/test/remove`
does, for admins in the browser, plus switching a source's sync on and off.

Secrets go exactly where the command line puts them: a key file is uploaded (or a token typed
into a password field), split from the plain settings by the connector's schema and sealed with
the instance's keys by `plugin.sources.service.add_source`; the page never shows a secret back,
not even after a refusal. Every change is an audit row under the admin's name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from connectors import registry
from connectors.settings import secret_fields

from ..context import db_session, get_connector_for
from ..secrets import SecretBox, SecretKeyError, load_box
from ..sources.resolve import DEMO_SOURCE
from ..sources.service import (
    SourceError,
    SourceNotFound,
    add_source,
    audit,
    coerce_setting,
    connector_class,
    format_interval,
    get_source,
    list_sources,
    masked_settings,
    parse_interval,
    remove_source,
    set_enabled,
)
from ..store.models import ReviewRow
from .auth import role_required
from .settings import bp

#: Largest key file taken; service-account JSON and .p8 keys are a few kilobytes.
MAX_KEY_BYTES = 64 * 1024


def _fields(kind: str) -> list[dict[str, Any]]:
    """The connector's settings as form fields, required ones first."""
    schema = connector_class(kind).settings_schema
    hidden = secret_fields(schema)
    required = set(schema.get("required", []))
    fields = []
    for key, spec in schema.get("properties", {}).items():
        types = spec.get("type", "string")
        types = [types] if isinstance(types, str) else list(types)
        default = spec.get("default")
        fields.append({
            "key": key, "title": spec.get("title") or key.replace("_", " ").capitalize(),
            "description": spec.get("description", ""), "secret": key in hidden,
            "required": key in required, "list": "array" in types,
            "default": ", ".join(default) if isinstance(default, list) else
            ("" if default is None else str(default))})
    return sorted(fields, key=lambda field: not field["required"])


def _page(error: str | None = None, status: int = 200, kind: str | None = None,
          form: dict | None = None, tested: tuple[str, bool, str] | None = None):
    db = db_session()
    rows = db.execute(select(ReviewRow.source, ReviewRow.platform, func.count(),
                             func.max(ReviewRow.received_at))
                      .group_by(ReviewRow.source, ReviewRow.platform)
                      .order_by(ReviewRow.source, ReviewRow.platform)).all()
    configured = {row.name: row for row in list_sources(db)}
    kinds = registry.available()
    kind = kind if kind in kinds else None
    return render_template(
        "settings/sources.html", rows=rows, demo=DEMO_SOURCE, configured=configured,
        connectors=kinds, kind=kind, fields=_fields(kind) if kind else [],
        masked={name: _masked(row) for name, row in configured.items()},
        intervals={name: format_interval(row.interval_seconds)
                   for name, row in configured.items()},
        error=error, form=form or {}, tested=tested, saved=request.args.get("saved")), status


def _masked(row) -> dict[str, Any]:
    try:
        return masked_settings(row)
    except SourceError:  # a connector no longer installed
        return dict(row.settings)


def _box() -> SecretBox:
    """The instance's keys, made on first use as `makeright source add` makes them."""
    settings = current_app.extensions["makeright.settings"]
    return load_box(create=True, instance=Path(current_app.instance_path),
                    settings=settings.secrets)


def _key_file(key: str, upload: FileStorage) -> str:
    data = upload.stream.read(MAX_KEY_BYTES + 1)
    if len(data) > MAX_KEY_BYTES:
        raise SourceError(f"{key}: the file is larger than {MAX_KEY_BYTES // 1024} KB; "
                          "a key file is a few kilobytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{key}: the file is not text (a .p8 key or a JSON key file "
                          "is)") from None


def _settings(kind: str) -> dict[str, Any]:
    """The form's settings as the command line would read them: plain ones coerced by the
    schema, secret ones from an uploaded file or a password field, empty ones left out."""
    schema = connector_class(kind).settings_schema
    hidden = secret_fields(schema)
    settings: dict[str, Any] = {}
    for key in schema.get("properties", {}):
        if key in hidden:
            upload = request.files.get(f"file:{key}")
            if upload is not None and upload.filename:
                settings[key] = _key_file(key, upload)
            elif request.form.get(f"secret:{key}", ""):
                settings[key] = request.form[f"secret:{key}"]
            continue
        raw = request.form.get(f"set:{key}", "").strip()
        if raw:
            settings[key] = coerce_setting(kind, schema, key, raw)
    return settings


@bp.route("/sources")
@role_required("admin")
def sources():
    return _page(kind=request.args.get("kind"))


@bp.route("/sources", methods=["POST"])
@role_required("admin")
def add_source_page():
    db = db_session()
    kind = request.form.get("kind", "")
    name = request.form.get("name", "").strip()
    # Plain values only: a secret is never written back into the page.
    shown = {key: value for key, value in request.form.items()
             if key in ("name", "interval") or key.startswith("set:")}
    try:
        settings = _settings(kind)
        seconds = parse_interval(request.form.get("interval", "") or "15m")
        add_source(db, _box(), kind, name, settings, seconds, actor=current_user.name)
        db.commit()
    except (SourceError, SecretKeyError) as exc:
        db.rollback()
        return _page(str(exc), 422, kind=kind, form=shown)
    return redirect(url_for("settings.sources", saved=f"added {name}"))


def _change(name: str, change) -> Any:
    db = db_session()
    try:
        change(db, name)
        db.commit()
    except SourceError as exc:
        db.rollback()
        return _page(str(exc), 404 if isinstance(exc, SourceNotFound) else 422)
    return None


@bp.route("/sources/<name>/enabled", methods=["POST"])
@role_required("admin")
def enable_source(name: str):
    enabled = request.form.get("enabled") == "1"
    refused = _change(name, lambda db, n: set_enabled(db, n, enabled, actor=current_user.name))
    return refused or redirect(url_for("settings.sources",
                                       saved=f"{'enabled' if enabled else 'disabled'} {name}"))


@bp.route("/sources/<name>/remove", methods=["POST"])
@role_required("admin")
def remove_source_page(name: str):
    refused = _change(name, lambda db, n: remove_source(db, n, actor=current_user.name))
    return refused or redirect(url_for("settings.sources", saved=f"removed {name}"))


@bp.route("/sources/<name>/test", methods=["POST"])
@role_required("admin")
def test_source(name: str):
    """One cheap authenticated call, as `makeright source test` makes; the verdict is shown
    and audited, a failure named by the connector's message (which never holds a secret)."""
    db = db_session()
    try:
        get_source(db, name)
        connector = get_connector_for()(name, session=db, box=_box())
    except (SourceError, SecretKeyError, ValueError) as exc:
        db.rollback()
        return _page(str(exc), 404 if isinstance(exc, SourceNotFound) else 422)
    check = getattr(connector, "check", None)
    if check is None:
        return _page(tested=(name, False, "this connector offers no check; a sync tries it"))
    try:
        verdict, ok = str(check()), True
    except Exception as exc:  # any failure is the verdict: this source does not work
        verdict, ok = str(exc) or type(exc).__name__, False
    audit(db, current_user.name, "source_tested", name, "works" if ok else "failed")
    db.commit()
    return _page(tested=(name, ok, verdict), status=200 if ok else 422)
