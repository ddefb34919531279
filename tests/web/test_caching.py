"""Nothing private is kept by a browser or a proxy; exports name one charset."""
from __future__ import annotations

import pytest

from tests.api.conftest import auth


@pytest.mark.parametrize("path", ["/queue", "/insights/", "/insights/report.json",
                                  "/insights/export.csv", "/insights/export.jsonl",
                                  "/settings/users", "/account/password"])
def test_every_signed_in_answer_is_no_store(as_role, path):
    response = as_role("admin").get(path)
    assert response.status_code == 200, path
    assert response.headers["Cache-Control"] == "no-store", path


def test_api_answers_are_no_store(app):
    from plugin.api.tokens import create_token
    from plugin.context import get_db

    with app.app_context(), get_db().session() as session:
        _, token = create_token(session, "reader", ["reviews:read"])
    client = app.test_client()
    for path in ("/api/v1/reviews", "/api/v1/reviews/999"):
        assert client.get(path, headers=auth(token)).headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/reviews").headers["Cache-Control"] == "no-store"  # 401 too


def test_public_documents_and_static_files_may_be_cached(app):
    client = app.test_client()
    for path in ("/openapi.json", "/manifest.json", "/static/app.css"):
        response = client.get(path)
        assert response.status_code == 200 and "no-store" not in \
            response.headers.get("Cache-Control", ""), path


def test_csv_export_names_one_charset(as_role):
    response = as_role("approver").get("/insights/export.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    jsonl = as_role("approver").get("/insights/export.jsonl")
    assert jsonl.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
