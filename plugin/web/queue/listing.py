"""The queue list: counts by status, filters, sort, pages and the overdue badge."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from ...context import db_session, get_policy
from ...store.models import DraftRow
from ..filters import SORTS, STATUS_CHOICES, Page, QueueFilter, facet_values
from . import bp


@bp.route("/")
def home():
    return redirect(url_for("queue.index"))


@bp.route("/queue")
def index():
    db = db_session()
    target = get_policy().response_target_hours
    view = replace(QueueFilter.from_args(request.args),
                   overdue_before=datetime.now(UTC) - timedelta(hours=target))
    size = int(current_app.config["QUEUE_PAGE_SIZE"])
    counts = view.counts(db)
    total = sum(counts[s] for s in view.statuses)
    page = Page(view.page, size, total)
    rows = view.rows(db, size)
    draft_ids = [r.current_draft_id for r in rows if r.current_draft_id]
    drafts = dict(db.execute(select(DraftRow.id, DraftRow.text)
                             .where(DraftRow.id.in_(draft_ids))).all()) \
        if draft_ids else {}
    return render_template(
        "queue.html", view=view, rows=rows, drafts=drafts, counts=counts, page=page,
        open_count=sum(counts[s] for s in QueueFilter().statuses),
        all_count=sum(counts.values()), facets=facet_values(db),
        status_choices=STATUS_CHOICES, sorts=tuple(SORTS),
        target_hours=target,
        back=request.full_path.rstrip("?"))
