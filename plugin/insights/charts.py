"""Charts drawn on the server as inline SVG: no CDN, no build step, no script.

Colours come from classes styled in static/insights.css (the CSP allows no inline style), each
chart carries a <title> and <desc> for screen readers, and every bar has its own <title> so a
pointer shows the exact number. The page always puts the same numbers in a table beside it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from .effect import EffectGroup
from .figures import RATINGS, DayCount, PlaceRatings

WIDTH = 640


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str = ""


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str],
         width: int = WIDTH) -> Markup:
    head = (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _nice_max(value: float) -> int:
    """A round axis maximum at or above `value`, so gridlines land on readable numbers."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return int(value) + 1


def days_by_rating(days: Sequence[DayCount], chart_id: str = "days") -> Markup:
    """Stacked columns: reviews written per day, one colour per star rating."""
    height, left, bottom, top = 220, 36, 28, 10
    plot_w, plot_h = WIDTH - left - 8, height - top - bottom
    peak = _nice_max(max((d.total for d in days), default=0) or 1)
    step = plot_w / max(len(days), 1)
    body = []
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line class="grid" x1="{left}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
                    f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                    f'{_num(value)}</text>')
    for index, day in enumerate(days):
        x, y = left + index * step + step * 0.15, top + plot_h
        for rating in RATINGS:
            count = day.by_rating.get(rating, 0)
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            body.append(f'<rect class="r{rating}" x="{x:.1f}" y="{y:.1f}" '
                        f'width="{step * 0.7:.1f}" height="{h:.1f}"><title>{day.day}: {count} '
                        f'review{"s" if count != 1 else ""} of {rating}★</title></rect>')
        if index % max(1, len(days) // 6) == 0 or index == len(days) - 1:
            body.append(f'<text class="axis" x="{x + step * 0.35:.1f}" y="{height - 8}" '
                        f'text-anchor="middle">{day.day[5:]}</text>')
    total = sum(d.total for d in days)
    desc = (f"{total} reviews over {len(days)} days, from {days[0].day} to {days[-1].day}; "
            f"busiest day {max(days, key=lambda d: d.total).day}." if days else "No reviews.")
    return _svg(chart_id, "Reviews received per day, by star rating", desc, height, body)


def bars(items: Sequence[Bar], title: str, chart_id: str, unit: str = "",
         width: int = 460) -> Markup:
    """Horizontal bars with the value written at the end of each bar."""
    row, left, height = 26, 190, max(len(items), 1) * 26 + 8
    peak = max((b.value for b in items), default=0) or 1
    body = []
    for index, bar in enumerate(items):
        y = 4 + index * row
        w = (width - left - 40) * bar.value / peak
        label = _short(bar.label, 28)
        body.append(f'<text class="label" x="{left - 8}" y="{y + 16}" text-anchor="end">'
                    f'{escape(label)}</text>'
                    f'<rect class="bar" x="{left}" y="{y + 3}" width="{max(w, 1):.1f}" '
                    f'height="{row - 8}"><title>{escape(bar.label)}: {_num(bar.value)}{unit}'
                    f'{escape(bar.note)}</title></rect>'
                    f'<text class="value" x="{left + max(w, 1) + 6:.1f}" y="{y + 16}">'
                    f'{_num(bar.value)}{unit}</text>')
    desc = "; ".join(f"{b.label}: {_num(b.value)}{unit}" for b in items) or "Nothing to show."
    return _svg(chart_id, title, desc, height, body, width)


def ratings_by_place(places: Sequence[PlaceRatings], chart_id: str = "places") -> Markup:
    """One 100% bar per place, split by star rating, with the average at the end."""
    row, left = 30, 200
    height = max(len(places), 1) * row + 8
    plot_w = WIDTH - left - 60
    body = []
    for index, place in enumerate(places):
        y, x = 4 + index * row, float(left)
        label = _short(place.short_label, 30)
        body.append(f'<text class="label" x="{left - 8}" y="{y + 18}" text-anchor="end">'
                    f'{escape(label)}</text>')
        for rating in RATINGS:
            count = place.by_rating.get(rating, 0)
            if not count:
                continue
            w = plot_w * count / place.total
            body.append(f'<rect class="r{rating}" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" '
                        f'height="{row - 10}"><title>{escape(place.label)}: {count} of '
                        f'{rating}★ ({100 * count / place.total:.0f}%)</title></rect>')
            x += w
        body.append(f'<text class="value" x="{left + plot_w + 6}" y="{y + 18}">'
                    f'{place.average:.2f}★</text>')
    desc = "; ".join(f"{p.label}: {p.total} reviews, average {p.average:.2f} stars"
                     for p in places) or "No reviews."
    return _svg(chart_id, "Star ratings by platform, source and location", desc, height, body)


def rating_change(groups: Sequence[EffectGroup], title: str, chart_id: str,
                  width: int = 460) -> Markup:
    """Dumbbells on a 1–5 star scale: average rating when we replied, and after the edit."""
    row, left = 30, 200
    height = max(len(groups), 1) * row + 30
    plot_w = width - left - 24

    def sx(stars: float) -> float:
        return left + plot_w * (stars - 1) / 4

    body = []
    for stars in RATINGS:
        body.append(f'<line class="grid" x1="{sx(stars):.1f}" x2="{sx(stars):.1f}" y1="0" '
                    f'y2="{height - 22}"/><text class="axis" x="{sx(stars):.1f}" '
                    f'y="{height - 6}" text-anchor="middle">{stars}★</text>')
    for index, group in enumerate(groups):
        y = 16 + index * row
        direction = "up" if group.change > 0 else "down" if group.change < 0 else "flat"
        body.append(
            f'<text class="label" x="{left - 8}" y="{y + 4}" text-anchor="end">'
            f'{escape(_short(group.key, 24))} ({group.count})</text>'
            f'<line class="change {direction}" x1="{sx(group.before):.1f}" '
            f'x2="{sx(group.after):.1f}" y1="{y}" y2="{y}"/>'
            f'<circle class="before" cx="{sx(group.before):.1f}" cy="{y}" r="5">'
            f'<title>{escape(group.key)}: {group.before:.2f}★ when we replied</title></circle>'
            f'<circle class="after {direction}" cx="{sx(group.after):.1f}" cy="{y}" r="6">'
            f'<title>{escape(group.key)}: {group.after:.2f}★ after the edit</title></circle>')
    desc = "; ".join(f"{g.key}: from {g.before:.2f} to {g.after:.2f} stars over {g.count} "
                     f"review{'s' if g.count != 1 else ''}" for g in groups) or "No edits yet."
    return _svg(chart_id, title, desc, height, body, width)
