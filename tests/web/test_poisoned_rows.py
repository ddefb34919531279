"""Rows stored before the input rules existed stay harmless: a review written straight into the
database with what the old code let through (lone surrogates and NUL inside its metadata JSON,
NUL and bidi characters in its text columns, markup, an empty-host url, a year-9999 date) is
shown escaped on every page, in every export and report, and never answers 500.

The row is written with SQL, not through the app, on both engines; PostgreSQL cannot hold NUL
in text at all, so there only the metadata carries the poison.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from plugin.accounts import add_user
from plugin.api.tokens import create_token
from plugin.app import create_app
from plugin.commands.main import cli
from plugin.store.db import Database

from .webtools import PASSWORD, SECRET, login

# Raw JSON text, as the old webhook stored it: json.dumps escaped what it could not encode.
POISONED_METADATA = ('{"location": "Main St \\udfff", "app\\u0000": "\\ud800", '
                     '"territory": "\\u202eGBR", "nested": {"deep": ["\\udc00", {"x": 1}]}}')
NUL = "\x00"
WRITTEN = datetime.now(UTC) - timedelta(days=2)


def _poison(database: Database, sqlite: bool) -> int:
    """Insert the poisoned review, a draft and an audit row with plain SQL; return its id."""
    nul = NUL if sqlite else ""
    values = {
        "platform": "google_business", "external_id": f"ord\u202e-1{nul}",
        "source": f"shop\u202e{nul}", "author": f"<script>alert(1)</script>{nul}",
        "rating": 1, "title": f"Title{nul}\u2066", "text": f"Late \u202edelivery{nul} <b>x</b>",
        "language": "en", "created": WRITTEN, "reply": f"Our reply{nul}", "url": "http://",
        "meta": POISONED_METADATA, "hash": "0" * 64, "status": "drafted",
        "reason": f"Draft v1{nul}\u202e", "now": datetime.now(UTC),
    }
    with database.engine.begin() as connection:
        review_id = connection.execute(text(
            "INSERT INTO reviews (platform, external_id, source, author, rating, title, text, "
            "language, declared_language, review_created_at, platform_reply, url, metadata, "
            "content_hash, categories, escalation_reasons, escalated, answerable, status, "
            "status_reason, status_changed_at, received_at, follow_up, has_offer, "
            "violation_count, attempts) VALUES (:platform, :external_id, :source, :author, "
            ":rating, :title, :text, :language, :language, :created, :reply, :url, :meta, "
            ":hash, '[\"delivery\"]', '[]', false, true, :status, :reason, :now, :now, false, "
            "false, 0, 0) RETURNING id"), values).scalar_one()
        draft_id = connection.execute(text(
            "INSERT INTO drafts (review_id, version, text, engine, language, violations, note, "
            "created_by, created_at, prompt_tokens, completion_tokens) VALUES (:rid, 1, :text, "
            "'offline', 'en', '[]', :note, 'system', :now, 0, 0) RETURNING id"),
            {"rid": review_id, "text": f"Sorry{nul} \u202eabout that", "note": f"n{nul}",
             "now": values["now"]}).scalar_one()
        connection.execute(text("UPDATE reviews SET current_draft_id = :d WHERE id = :r"),
                           {"d": draft_id, "r": review_id})
        connection.execute(text(
            "INSERT INTO audit_log (review_id, actor, action, from_state, to_state, reason, at) "
            "VALUES (:r, 'system', 'transition', 'new', 'drafted', :reason, :now)"),
            {"r": review_id, "reason": values["reason"], "now": values["now"]})
    return review_id


@pytest.fixture
def poisoned(database_url, tmp_path, monkeypatch):
    """An app on a fresh database (SQLite or PostgreSQL) with an admin, a token, one ordinary
    review stored through the webhook path, and the poisoned row."""
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", database_url)
    monkeypatch.setenv("MAKERIGHT_INSTANCE", str(tmp_path / "instance"))
    database = Database(database_url)
    with database.session() as session:
        add_user(session, "admin", "admin", PASSWORD)
        _, token = create_token(session, "reader", ["reviews:read"])
    review_id = _poison(database, database.engine.dialect.name == "sqlite")
    database.dispose()
    app = create_app({"SECRET_KEY": SECRET, "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance")})
    yield app, review_id, token
    app.extensions["makeright.db"].dispose()


def _ok(response, path: str) -> str:
    assert response.status_code == 200, (path, response.status_code,
                                         response.get_data(as_text=True)[:500])
    return response.get_data(as_text=True)


def test_every_page_and_export_survives_a_poisoned_row(poisoned):
    app, review_id, token = poisoned
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    pages = ["/queue", "/queue?status=all", "/queue?source=shop", f"/reviews/{review_id}",
             "/insights/", "/insights/?since=365d", "/settings/sources", "/settings/users"]
    for path in pages:
        html = _ok(client.get(path), path)
        assert "<script>alert(1)</script>" not in html, path
    review_page = _ok(client.get(f"/reviews/{review_id}"), "review")
    assert "Main St \\udfff" in review_page  # shown, escaped, on the page

    report = json.loads(_ok(client.get("/insights/report.json?since=365d"), "report.json"))
    assert report["received"] == 1

    rows = list(csv.DictReader(io.StringIO(_ok(client.get("/insights/export.csv?since=365d"),
                                               "export.csv"))))
    assert [row["id"] for row in rows] == [str(review_id)]
    assert rows[0]["location"] == "Main St \\udfff"
    lines = _ok(client.get("/insights/export.jsonl?since=365d"), "export.jsonl").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["id"] == review_id

    api = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/reviews", headers=api)
    assert _ok(listed, "api list") and listed.get_json()["reviews"][0]["id"] == review_id
    detail = client.get(f"/api/v1/reviews/{review_id}", headers=api)
    assert _ok(detail, "api detail") and detail.get_json()["draft"]["text"]


@pytest.mark.parametrize("args", [["export", "--format", "csv"], ["export", "--format", "jsonl"],
                                  ["report", "--since", "365d"],
                                  ["report", "--since", "365d", "--format", "json"],
                                  ["report", "--since", "365d", "--format", "csv"],
                                  ["digest"]])
def test_the_command_line_survives_a_poisoned_row(poisoned, args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (result.output, result.exception)
    if args[0] == "export":
        assert "exported 1 reviews" in result.stderr
        assert "\\udfff" in result.stdout or "\\\\udfff" in result.stdout
