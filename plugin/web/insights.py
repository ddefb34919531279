"""The insights dashboard and its downloads, at /insights.

Every page needs a signed-in user. The figures come from `figures.compute`, the same function
`makeright report` uses, so the page and the command line always agree.
"""
from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import login_required

from connectors.untrusted import printable

from ..context import get_db, get_policy, request_unit
from ..insights import charts, export
from ..insights.charts import Bar
from ..insights.cohort import Period, make_period
from ..insights.figures import compute
from ..sources.brands import brands
from .auth import role_required

bp = Blueprint("insights", __name__, url_prefix="/insights")
PERIODS = (("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"), ("365d", "12 months"))


def _period() -> tuple[Period, str | None]:
    since = request.args.get("since", "30d")
    until = request.args.get("until") or None
    try:
        return make_period(since, until), None
    except ValueError as exc:
        return make_period(), f"{exc}; showing the last 30 days instead."


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M")


@bp.get("/")
@login_required
def dashboard() -> str:
    period, problem = _period()
    policy = get_policy()
    brand = request.args.get("brand", "")[:200]
    with request_unit() as session:
        report = compute(session, policy, period, brand=brand or None)
        brand_names = brands(session)
    effect_charts = {
        dimension: charts.rating_change(report.effect.groups[dimension],
                                        f"Average rating before and after, by {dimension}",
                                        f"effect-{dimension}")
        for dimension in ("engine", "offer")}
    figures = {
        "days": charts.days_by_rating(report.received_by_day),
        "offers": charts.bars([Bar(o.label, o.count) for o in report.offers],
                              "Offers made, by type", "offers"),
        "places": charts.ratings_by_place(report.ratings_by_place),
        "trending": charts.bars(
            [Bar(c.category, c.this_week, f" (weekly average before: {c.previous_average:g})")
             for c in report.trending], "Categories trending up: reviews this week", "trending"),
        **{f"effect_{k}": v for k, v in effect_charts.items()},
    }
    args = {"since": request.args.get("since", "30d"), "until": request.args.get("until", ""),
            "brand": brand}
    return render_template("insights/dashboard.html", report=report, charts=figures,
                           brands=brand_names,
                           periods=PERIODS, args=args, problem=problem,
                           rating_totals={r: sum(d.by_rating[r] for d in report.received_by_day)
                                          for r in range(1, 6)})


@bp.get("/report.json")
@login_required
def report_json() -> Response:
    period, problem = _period()
    if problem:
        return Response(json.dumps({"error": problem}), status=400,
                        mimetype="application/json")
    with request_unit() as session:
        report = compute(session, get_policy(), period,
                         brand=request.args.get("brand", "")[:200] or None)
    return Response(printable(json.dumps(report.to_json(), ensure_ascii=False)),
                    mimetype="application/json")


@bp.get("/export.<fmt>")
@role_required("approver")  # author names and review text of every customer
def download(fmt: str) -> Response:
    if fmt not in ("csv", "jsonl"):
        return Response("Exports are csv or jsonl.", status=404, mimetype="text/plain")
    period, problem = _period()
    if problem:
        return Response(problem, status=400, mimetype="text/plain")
    policy, database = get_policy(), get_db()

    def generate():
        with database.session(read_only=True) as session:
            items = export.rows(session, policy, period)
            yield from export.csv_lines(items) if fmt == "csv" else export.jsonl_lines(items)

    name = f"makeright-reviews-{_stamp(period.start)}-{_stamp(period.end)}.{fmt}"
    # content_type, not mimetype: Werkzeug adds a charset to a text/* mimetype itself, and a
    # second one makes some clients guess.
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(stream_with_context(generate()), content_type=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
