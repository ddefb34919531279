"""The dashboard through the Flask test client: figures, SVG charts with their tables, exports."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from plugin.app import create_app

from ..constants import TEST_SECRET
from .seed import seed

PERIOD = {"since": "2026-11-01T12:00Z", "until": "2026-12-01T12:00Z"}


@pytest.fixture
def client(database, database_url, policy):
    ids = seed(database, policy)
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "LOGIN_DISABLED": True,
                      "SECRET_KEY": TEST_SECRET})
    manager = app.login_manager
    if manager._user_callback is None and manager._request_callback is None:
        # Until the queue's user store is merged, nobody is signed in (LOGIN_DISABLED lets the
        # pages render); the real loader takes over once it exists.
        manager.request_loader(lambda _request: None)
    with app.test_client() as client:
        yield client, ids
    app.extensions["makeright.db"].dispose()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_dashboard_shows_the_figures(client):
    http, ids = client
    page = http.get("/insights/", query_string=PERIOD)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'id="kpi-received">19<', html)
    assert re.search(r'id="kpi-rate">65%<', html)  # 11 of 17
    assert re.search(r'id="kpi-median">24.0 h<', html)
    assert re.search(r'id="kpi-waiting">5<', html)
    assert re.search(r'id="kpi-escalations">2<', html)
    text = _text(html)
    assert "p90 2.0 days" in text
    assert "Money offered 27.00 EUR" in text
    assert "the average rating went from 1.20★ to 3.00★ (4 better, 1 the same, 0 worse)" in text
    waiting = html[html.index('id="waiting"'):]
    order = [waiting.index(f"#{ids[k]}<") for k in ("r20", "r11", "r18", "r12", "r13")]
    assert order == sorted(order)


def test_charts_are_accessible_svg_with_tables(client):
    http, _ = client
    html = http.get("/insights/", query_string=PERIOD).get_data(as_text=True)
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == 6
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    days = next(s for s in svgs if "Reviews received per day" in s)
    assert "2026-11-30: 1 review of 2★" in days
    assert days.count('class="r') >= 19 - 2  # one segment per rating per day
    places = next(s for s in svgs if "Star ratings by platform" in s)
    assert "3.17★" in places  # Dock St: 19 / 6
    # The shared page script is the only one; nothing inline for the CSP to refuse.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert "style=" not in html
    assert html.count("<table") >= 8


def test_bad_period_falls_back_with_a_message(client):
    http, _ = client
    html = http.get("/insights/?since=whenever").get_data(as_text=True)
    assert "is not a duration like 30d" in html


def test_report_json_matches(client):
    http, _ = client
    data = http.get("/insights/report.json", query_string=PERIOD).get_json()
    assert (data["received"], data["replied"], data["waiting_past_target"]["total"]) == (19, 11, 5)


def test_csv_and_jsonl_downloads(client):
    http, ids = client
    response = http.get("/insights/export.csv", query_string=PERIOD)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 19
    by_id = {int(r["id"]): r for r in rows}
    r01 = by_id[ids["r01"]]
    assert (r01["offer_id"], r01["offer_value"], r01["reply_engine"]) == (
        "refund_delivery_fee", "6.0", "offline")
    assert (r01["rating"], r01["rating_when_replied"], r01["hours_to_reply"]) == ("4", "1", "6.0")
    assert r01["draft_count"] == "2" and r01["approved_by"] == "alice"
    lines = http.get("/insights/export.jsonl", query_string=PERIOD).get_data(as_text=True)
    items = [json.loads(line) for line in lines.splitlines()]
    r03 = next(i for i in items if i["id"] == ids["r03"])
    assert r03["reply_engine"] == "edited by a person" and len(r03["drafts"]) == 2
    assert r03["offer_id"] == "next_visit_discount"
    assert http.get("/insights/export.xml").status_code == 404
