"""Working the queue as a team: assigning reviews, internal notes, inserting snippets into the
editor, and each person's saved views.

None of these changes a review's status or its reply, so none goes through the state machine;
each is audited with `states.record` in the same transaction as the change. Inserting a snippet
without JavaScript saves nothing: the page comes back with the snippet appended to the text on
screen, and saving it later runs the same checks as any other draft text.
"""
from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user

from ...context import db_session
from ...inputs import parse_id
from ...store import teamwork
from ...store.teamwork import SnippetRow, TeamworkError
from ..auth import role_required
from . import bp
from .listing import assignee_from
from .review import _done, load_row, render_review


@bp.route("/reviews/<id:review_id>/assign", methods=["POST"])
@role_required("editor")
def assign(review_id: int):
    db = db_session()
    row = load_row(db, review_id)
    raw = current_user.name if request.form.get("me") == "1" else request.form.get("assignee")
    try:
        changed = teamwork.assign(db, row, assignee_from(db, raw), actor=current_user.name)
    except TeamworkError as exc:
        db.rollback()
        return render_review(db, load_row(db, review_id), error=str(exc), status=422)
    db.commit()
    if not changed:
        return _done(row, "assign_unchanged")
    return _done(row, "assigned" if row.assignee else "unassigned")


@bp.route("/reviews/<id:review_id>/notes", methods=["POST"])
@role_required("editor")
def add_note(review_id: int):
    db = db_session()
    row = load_row(db, review_id)
    try:
        teamwork.add_note(db, row, request.form.get("note"), author=current_user.name)
    except TeamworkError as exc:
        db.rollback()
        return render_review(db, load_row(db, review_id), error=str(exc), status=422,
                             note=request.form.get("note", "")[:teamwork.NOTE_MAX])
    db.commit()
    return _done(row, "noted")


@bp.route("/reviews/<id:review_id>/snippet", methods=["POST"])
@role_required("editor")
def insert_snippet(review_id: int):
    """Without JavaScript: the page again, the chosen snippet appended to the text on screen."""
    db = db_session()
    row = load_row(db, review_id)
    text = request.form.get("text", "")
    snippet_id = parse_id(request.form.get("snippet"))
    snippet = db.get(SnippetRow, snippet_id) if snippet_id else None
    if snippet is None:
        return render_review(db, row, error="Choose a snippet to insert.", text=text,
                             offer_id=request.form.get("offer"), status=422)
    joined = f"{text.rstrip()}\n\n{snippet.text}" if text.strip() else snippet.text
    return render_review(db, row, text=joined, offer_id=request.form.get("offer"))


@bp.route("/queue/views", methods=["POST"])
def save_view():
    db = db_session()
    try:
        saved = teamwork.save_view(db, current_user.id, request.form.get("name"),
                                   request.form.get("query", ""), actor=current_user.name)
    except TeamworkError as exc:
        db.rollback()
        abort(422, str(exc))
    db.commit()
    return redirect(url_for("queue.index") + saved.query)


@bp.route("/queue/views/<id:view_id>/delete", methods=["POST"])
def delete_view(view_id: int):
    db = db_session()
    if not teamwork.delete_view(db, current_user.id, view_id, actor=current_user.name):
        abort(404, "You have no saved view with that number.")
    db.commit()
    return redirect(url_for("queue.index"))
