"""Every figure on the seeded data set, against answers worked out by hand from seed.SPECS.

Period: 2026-11-01 12:00 to 2026-12-01 12:00 UTC; response target 48 h (the bundled policy).
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from plugin.insights.cohort import Period, make_period, parse_moment
from plugin.insights.figures import compute
from plugin.insights.sql import percentile
from plugin.store.db import Database
from tests.databases import copy_sqlite

from .seed import END, START, seed


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def report(request, policy, tmp_path_factory):
    """The figures of the seeded data set on each engine, computed once for this module: the
    tests here only read them (seeding and computing them again for every test was most of
    this module's time)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("figures") / "test.sqlite"
        url = f"sqlite:///{copy_sqlite(request.getfixturevalue('sqlite_template'), path)}"
    else:
        url = request.getfixturevalue("postgres_template").fresh()
    database = Database(url)
    try:
        ids = seed(database, policy)
        with database.session() as session:
            figures = compute(session, policy, Period(START, END))
    finally:
        database.dispose()
    return figures, ids


def test_counts_and_response_rate(report):
    result, _ = report
    # r01..r18 and r21 were written in the period; r19 and r20 before it.
    assert (result.received, result.skipped, result.replied) == (19, 2, 11)
    assert result.response_rate == pytest.approx(11 / 17)


def test_received_by_day_and_rating(report):
    result, _ = report
    days = {d.day: d for d in result.received_by_day}
    assert len(days) == 31 and min(days) == "2026-11-01" and max(days) == "2026-12-01"
    assert sum(d.total for d in days.values()) == 19
    assert days["2026-11-30"].by_rating == {1: 1, 2: 1, 3: 0, 4: 0, 5: 0}
    assert days["2026-11-27"].by_rating == {1: 1, 2: 1, 3: 0, 4: 0, 5: 0}
    # r01 was 1 star when written and is 4 now: ratings are the current ones.
    assert days["2026-11-03"].by_rating[4] == 1
    assert days["2026-11-02"].total == 0


def test_time_to_reply(report):
    result, _ = report
    # Hours: 1, 2, 4, 6, 12, 24, 24, 24, 48, 48, 72 (r17, r04, r07, r01, r05, r02, r09, r21,
    # r03, r16, r06). Median is the 6th; p90 sits at position 10 * 0.9 = 9 -> 48.
    assert result.timing.count == 11
    assert result.timing.median_hours == pytest.approx(24)
    assert result.timing.p90_hours == pytest.approx(48)
    assert result.timing.within_target == 10


def test_waiting_past_target_oldest_first(report):
    result, ids = report
    assert result.waiting_total == 5
    assert [w.id for w in result.waiting] == [ids[k] for k in ("r20", "r11", "r18", "r12", "r13")]
    assert [round(w.age_hours) for w in result.waiting] == [900, 156, 108, 96, 72]
    assert [w.status for w in result.waiting] == [
        "new", "needs_attention", "needs_attention", "drafted", "approved"]


def test_open_escalations(report):
    result, _ = report
    # r21 was escalated too, but its reply is posted.
    assert result.escalations_open == 2
    assert result.escalation_reasons == {"discrimination": 1, "injury": 1}


def test_offers_by_type_and_value(report):
    result, _ = report
    lines = {o.offer_id: o for o in result.offers}
    assert {k: v.count for k, v in lines.items()} == {
        "app_callback": 3, "refund_delivery_fee": 2, "goodwill_voucher": 1,
        "next_visit_discount": 1, "replace_item": 1}
    # r01's follow-up draft (no offer) came after approval: the reply's offer still counts.
    assert lines["refund_delivery_fee"].value == Decimal(12)
    assert lines["goodwill_voucher"].value == Decimal(15)
    assert lines["app_callback"].value is None and lines["app_callback"].kind == "service"
    assert result.offer_totals == {"EUR": Decimal(27)}


def test_ratings_by_place(report):
    result, _ = report
    places = {p.label: p for p in result.ratings_by_place}
    dock = places["google_business · Harbour Lane · Dock St"]
    assert dock.by_rating == {1: 1, 2: 1, 3: 1, 4: 2, 5: 1}
    assert dock.average == pytest.approx(19 / 6)
    mill = places["google_business · Harbour Lane · Mill Rd"]
    assert mill.by_rating == {1: 3, 2: 1, 3: 0, 4: 0, 5: 1} and mill.average == pytest.approx(2.0)
    play = places["google_play · com.harbour.app"]
    assert play.by_rating == {1: 2, 2: 2, 3: 0, 4: 0, 5: 1} and play.average == pytest.approx(2.2)
    assert places["app_store · 123456"].total == 3
    assert [p.total for p in result.ratings_by_place] == [6, 5, 5, 3]


def test_categories_trending_up(report):
    result, _ = report
    trends = {c.category: c for c in result.categories}
    # This week (from 2026-11-24 12:00): crash 3, delivery 2, damaged 1, cleanliness 1.
    # The four weeks before: delivery 2, staff 2, one each of damaged, wait, crash, login,
    # performance, ads.
    assert [c.category for c in result.trending] == ["crash", "delivery", "cleanliness", "damaged"]
    assert (trends["crash"].this_week, trends["crash"].previous_average) == (3, 0.25)
    assert trends["delivery"].change == pytest.approx(1.5)
    assert (trends["staff"].this_week, trends["staff"].previous_average) == (0, 0.5)
    assert not trends["staff"].rising


def test_reply_effect(report):
    result, ids = report
    effect = result.effect
    # r01 1->4, r02 2->3, r03 1->2, r05 1->1, r09 1->5 (first edit after the reply kept 1).
    # r06 was edited before our reply; r19 was written before the period.
    assert sorted(i.review_id for i in effect.items) == sorted(
        ids[k] for k in ("r01", "r02", "r03", "r05", "r09"))
    overall = effect.overall
    assert (overall.count, overall.before, overall.after) == (5, pytest.approx(1.2),
                                                              pytest.approx(3.0))
    assert (overall.improved, overall.unchanged, overall.worse) == (4, 1, 0)
    engines = {g.key: g for g in effect.groups["engine"]}
    assert (engines["offline"].before, engines["offline"].after) == (1.0, 2.5)
    assert (engines["llm"].before, engines["llm"].after) == (1.5, 4.0)
    assert (engines["edited by a person"].count, engines["edited by a person"].after) == (1, 2.0)
    categories = {g.key: g for g in effect.groups["category"]}
    assert (categories["delivery"].count, categories["delivery"].change) == (2, 3.5)
    assert categories["wait"].count == categories["staff"].count == 1
    languages = {g.key: g for g in effect.groups["language"]}
    assert (languages["en"].count, languages["en"].before, languages["en"].after) == (4, 1.25, 3.25)
    offers = {g.key: g for g in effect.groups["offer"]}
    assert offers["Discount on the next order"].after == 2.0
    assert offers["Goodwill voucher"].change == 4.0
    assert offers["Priority call-back from the app team"].unchanged == 1


def test_report_json_is_serialisable(report):
    import json

    result, _ = report
    data = json.loads(json.dumps(result.to_json()))
    assert data["response_rate"] == pytest.approx(11 / 17)
    assert data["offer_totals"] == {"EUR": 27.0}
    assert data["reply_effect"]["overall"]["count"] == 5


def test_percentile_interpolates():
    assert percentile([1, 2, 4, 6], 0.5) == 3
    assert percentile(list(range(1, 11)), 0.9) == pytest.approx(9.1)
    assert percentile([], 0.5) is None


def test_period_parsing():
    assert parse_moment("30d", END) == END - timedelta(days=30)
    assert parse_moment("2w", END) == END - timedelta(days=14)
    assert parse_moment("2026-11-01", END).isoformat() == "2026-11-01T00:00:00+00:00"
    with pytest.raises(ValueError):
        parse_moment("soon", END)
    with pytest.raises(ValueError):
        make_period("2026-12-02", "2026-12-01")
