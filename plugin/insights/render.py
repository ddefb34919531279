"""`makeright report` output: a readable text table and a long-format CSV.

The CSV is one figure per line (section, key, metric, value), so every section fits one file and
a spreadsheet pivot recreates any table.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from .figures import RATINGS, Report


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _table(title: str, header: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [title, line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                      enumerate(zip(row, widths, strict=True))) for row in cells]
    return out + [""]


def long_rows(report: Report) -> Iterator[list[Any]]:
    r = report
    yield ["period", "", "start", r.period.start.isoformat()]
    yield ["period", "", "end", r.period.end.isoformat()]
    for metric, value in (("received", r.received), ("skipped", r.skipped),
                          ("replied", r.replied), ("response_rate", r.response_rate),
                          ("median_hours_to_reply", r.timing.median_hours),
                          ("p90_hours_to_reply", r.timing.p90_hours),
                          ("replied_within_target", r.timing.within_target),
                          ("waiting_past_target", r.waiting_total),
                          ("escalations_open", r.escalations_open)):
        yield ["summary", "", metric, value]
    for day in r.received_by_day:
        for rating in RATINGS:
            yield ["received_by_day", day.day, f"rating_{rating}", day.by_rating[rating]]
    for w in r.waiting:
        yield ["waiting", str(w.id), "hours_waiting", round(w.age_hours, 2)]
    for reason, count in r.escalation_reasons.items():
        yield ["escalations_open", reason, "count", count]
    for o in r.offers:
        yield ["offers", o.offer_id, "count", o.count]
        if o.value is not None:
            yield ["offers", o.offer_id, f"value_{o.currency}", o.value]
    for place in r.ratings_by_place:
        yield ["ratings_by_place", place.label, "average", round(place.average, 4)]
        for rating in RATINGS:
            yield ["ratings_by_place", place.label, f"rating_{rating}", place.by_rating[rating]]
    for c in r.categories:
        yield ["categories", c.category, "this_week", c.this_week]
        yield ["categories", c.category, "previous_weekly_average", c.previous_average]
    if r.effect.overall:
        for metric in ("count", "before", "after", "improved", "unchanged", "worse"):
            yield ["reply_effect", "all", metric, getattr(r.effect.overall, metric)]
    for dimension, groups in r.effect.groups.items():
        for g in groups:
            for metric in ("count", "before", "after"):
                yield [f"reply_effect_by_{dimension}", g.key, metric, getattr(g, metric)]


def as_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "key", "metric", "value"])
    writer.writerows(long_rows(report))
    return buffer.getvalue()


def as_table(report: Report) -> str:
    r = report
    rate = f"{r.response_rate:.1%}" if r.response_rate is not None else "—"
    out = [f"Reviews written {r.period.start:%Y-%m-%d %H:%M} to {r.period.end:%Y-%m-%d %H:%M} "
           f"UTC (response target {r.target_hours} h)", ""]
    out += _table("Summary", ["figure", "value"], [
        ["reviews received", r.received], ["skipped", r.skipped], ["replies posted", r.replied],
        ["… published / pending / rejected",
         " / ".join(str(r.public.get(k, 0)) for k in ("published", "pending", "rejected"))],
        ["response rate", rate], ["median hours to reply", r.timing.median_hours],
        ["p90 hours to reply", r.timing.p90_hours],
        ["replied within target", f"{r.timing.within_target} of {r.timing.count}"],
        ["waiting past target (now)", r.waiting_total],
        ["open escalations (now)", r.escalations_open]])
    out += _table("Waiting past target, oldest first",
                  ["review", "platform", "source", "rating", "status", "hours"],
                  [[f"#{w.id}", w.platform, w.source, w.rating, w.status, w.age_hours]
                   for w in r.waiting])
    totals = ", ".join(f"{v:.2f} {c}" for c, v in r.offer_totals.items()) or "none"
    out += _table(f"Offers (money offered: {totals})", ["offer", "kind", "made", "value"],
                  [[o.label, o.kind, o.count, f"{o.value:.2f} {o.currency}" if o.value else None]
                   for o in r.offers])
    out += _table("Ratings by place", ["where", "reviews", "average", *map(str, RATINGS)],
                  [[p.label, p.total, p.average, *(p.by_rating[k] for k in RATINGS)]
                   for p in r.ratings_by_place])
    out += _table("Categories (this week vs weekly average of the 4 weeks before)",
                  ["category", "this week", "before", "rising"],
                  [[c.category, c.this_week, c.previous_average, "yes" if c.rising else ""]
                   for c in r.categories])
    for dimension, groups in r.effect.groups.items():
        out += _table(f"Reply effect by {dimension} (rating when we replied -> now)",
                      [dimension, "reviews", "before", "after", "change"],
                      [[g.key, g.count, g.before, g.after, g.change] for g in groups])
    out += _table("Received per day", ["day", *map(str, RATINGS), "all"],
                  [[d.day, *(d.by_rating[k] for k in RATINGS), d.total]
                   for d in r.received_by_day if d.total])
    return "\n".join(out)
