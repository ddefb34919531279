"""The queue list: counts by status, filters, sort, pages, the overdue badge and the person's
saved views."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...accounts import UserRow
from ...actions import ROLES
from ...context import db_session, get_policy
from ...store.models import DraftRow
from ...store.teamwork import TeamworkError, saved_views
from ..filters import SORT_LABELS, STATUS_CHOICES, Page, QueueFilter, facet_values
from ..flow import prepared
from . import bp


def assignable(db) -> list[str]:
    """Who a review can be given to: active people who can edit a reply."""
    return list(db.scalars(select(UserRow.name).where(
        UserRow.active.is_(True), UserRow.role.in_(ROLES[ROLES.index("editor"):]))
        .order_by(UserRow.name)))


def assignee_from(db, raw: str | None) -> str | None:
    """The person a form names, or None for nobody; refuses anyone who cannot edit."""
    name = (raw or "").strip()
    if not name:
        return None
    if name not in assignable(db):
        raise TeamworkError("assignee", f"{name!r} is not an active person who can edit "
                                        "replies.")
    return name


@bp.route("/")
def home():
    return redirect(url_for("queue.index"))


@bp.route("/queue")
def index():
    db = db_session()
    view = prepared(QueueFilter.from_args(request.args), current_user.name)
    size = int(current_app.config["QUEUE_PAGE_SIZE"])
    counts = view.counts(db)
    total = sum(counts[s] for s in view.statuses)
    # A search with many matches counts its first ones only: the figures are "at least", and
    # one row past the page says whether there is a next one.
    broad = view.at_least(db)
    rows = view.rows(db, size, lookahead=1 if broad else 0)
    more, rows = len(rows) > size, rows[:size]
    if broad:
        total = max(total, (view.page - 1) * size + len(rows) + more)
    page = Page(view.page, size, total, at_least=broad, more=more)
    draft_ids = [r.current_draft_id for r in rows if r.current_draft_id]
    drafts = dict(db.execute(select(DraftRow.id, DraftRow.text)
                             .where(DraftRow.id.in_(draft_ids))).all()) \
        if draft_ids else {}
    return render_template(
        "queue.html", view=view, rows=rows, drafts=drafts, counts=counts, page=page,
        at_least="+" if broad else "",
        open_count=sum(counts[s] for s in QueueFilter().statuses),
        all_count=sum(counts.values()), facets=facet_values(db),
        status_choices=STATUS_CHOICES, sorts=SORT_LABELS,
        targets=view.targets, target_hours=get_policy().response_target_hours,
        people=assignable(db),
        saved=saved_views(db, current_user.id), view_query=view.query(),
        back=request.full_path.rstrip("?"))
