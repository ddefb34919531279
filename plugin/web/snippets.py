"""The snippets page, on the settings blueprint: short reusable texts per language, kept
by approvers.

A snippet is only text an editor puts into a draft; the draft's checks run when it is saved,
so a snippet cannot carry anything past the guardrails that typing it could not.
"""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from ..context import db_session, get_policy
from ..store import teamwork
from ..store.teamwork import SnippetInput, SnippetRow, TeamworkError
from .auth import role_required
from .settings import bp


def _page(error: str | None = None, status: int = 200, form: dict | None = None,
          editing: int | None = None):
    db = db_session()
    return render_template("settings/snippets.html", snippets=teamwork.snippets(db),
                           languages=get_policy().languages, error=error, form=form or {},
                           editing=editing, saved=request.args.get("saved")), status


def _read() -> SnippetInput:
    return SnippetInput.read(request.form.get("language"), request.form.get("title"),
                             request.form.get("text"))


@bp.route("/snippets")
@role_required("approver")
def snippets():
    return _page()


@bp.route("/snippets", methods=["POST"])
@role_required("approver")
def add_snippet():
    db = db_session()
    try:
        teamwork.save_snippet(db, _read(), actor=current_user.name)
        db.commit()
    except TeamworkError as exc:
        db.rollback()
        return _page(f"{exc.field}: {exc}", 422, dict(request.form))
    return redirect(url_for("settings.snippets", saved="added"))


def _snippet(snippet_id: int) -> SnippetRow:
    found = db_session().get(SnippetRow, snippet_id)
    if found is None:
        abort(404, "There is no such snippet.")
    return found


@bp.route("/snippets/<id:snippet_id>", methods=["POST"])
@role_required("approver")
def change_snippet(snippet_id: int):
    db = db_session()
    snippet = _snippet(snippet_id)
    try:
        teamwork.save_snippet(db, _read(), actor=current_user.name, snippet=snippet)
        db.commit()
    except TeamworkError as exc:
        db.rollback()
        return _page(f"{exc.field}: {exc}", 422, editing=snippet_id)
    return redirect(url_for("settings.snippets", saved="changed"))


@bp.route("/snippets/<id:snippet_id>/delete", methods=["POST"])
@role_required("approver")
def delete_snippet(snippet_id: int):
    db = db_session()
    teamwork.delete_snippet(db, _snippet(snippet_id), actor=current_user.name)
    db.commit()
    return redirect(url_for("settings.snippets", saved="deleted"))
