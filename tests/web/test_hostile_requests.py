"""Hostile query strings, forms and ids on the pages: a clear 4xx or an ordinary page, never a
500 and never a value PostgreSQL cannot store."""
from __future__ import annotations

import pytest

from plugin.store.models import AuditRow


@pytest.mark.parametrize("path", ["/reviews/2147483648", "/reviews/99999999999999999999",
                                  "/reviews/0", "/reviews/١"])
def test_review_ids_outside_an_integer_column_are_404(as_role, path):
    client = as_role("admin")
    assert client.get(path).status_code == 404
    assert client.post(path + "/skip", data={"reason": "x"}).status_code == 404


def test_a_nul_in_a_form_field_is_refused_by_name(app, seed, as_role, row):
    review_id = seed()
    response = as_role("editor").post(f"/reviews/{review_id}/skip",
                                      data={"reason": "spam\x00hidden"})
    assert response.status_code == 422
    assert "reason" in response.get_data(as_text=True)
    assert row(review_id).status != "skipped"


def test_the_same_form_without_nul_works(app, seed, as_role, row):
    review_id = seed()
    response = as_role("editor").post(f"/reviews/{review_id}/skip",
                                      data={"reason": "spam \u202ehidden"})
    assert response.status_code == 302 and row(review_id).status == "skipped"
    from plugin.context import get_db
    with app.app_context(), get_db().session() as session:
        reasons = [a.reason for a in session.query(AuditRow).filter_by(review_id=review_id,
                                                                        to_state="skipped")]
    assert reasons == ["spam hidden"]


@pytest.mark.parametrize("query", ["?source=%00", "?page=%C2%B2", "?page=99999999999999999999",
                                   "?rating=%D9%A3", "?language=" + "x" * 5000])
def test_queue_filters_never_fail(seed, as_role, query):
    seed()
    response = as_role("viewer").get("/queue" + query)
    assert response.status_code in (200, 400), query
    if "%00" in query:
        assert response.status_code == 400 and "source" in response.get_data(as_text=True)


def test_bulk_ignores_ids_no_row_can_have(seed, as_role, row):
    review_id = seed()
    response = as_role("approver").post("/queue/bulk", data={
        "action": "skip", "reason": "duplicates",
        "ids": [str(review_id), "99999999999999999999999", "٣", "-1"]})
    assert response.status_code in (200, 302)
    assert row(review_id).status == "skipped"


@pytest.mark.parametrize("query", ["since=99999999999999d", "until=9999-12-31T23:59:59-23:59",
                                   "since=36500000d&until=0001-01-02"])
def test_insights_periods_outside_the_calendar_are_explained(as_role, query):
    client = as_role("approver")
    page = client.get(f"/insights/?{query}")
    assert page.status_code == 200 and "30 days instead" in page.get_data(as_text=True)
    assert client.get(f"/insights/report.json?{query}").status_code == 400
    assert client.get(f"/insights/export.csv?{query}").status_code == 400
