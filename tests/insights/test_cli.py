"""`makeright report` and `makeright export` print the same figures as the dashboard."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from plugin.commands.main import cli

from .seed import seed

PERIOD = ["--since", "2026-11-01T12:00Z", "--until", "2026-12-01T12:00Z"]


@pytest.fixture
def runner(database, database_url, policy, monkeypatch):
    seed(database, policy)
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", database_url)
    return CliRunner()


def test_report_json(runner):
    result = runner.invoke(cli, ["report", *PERIOD, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["received"], data["skipped"], data["replied"]) == (19, 2, 11)
    assert data["time_to_reply"]["median_hours"] == pytest.approx(24)
    assert data["offer_totals"] == {"EUR": 27.0}
    assert [c["category"] for c in data["categories"] if c["rising"]] == [
        "crash", "delivery", "cleanliness", "damaged"]
    assert data["reply_effect"]["overall"]["rating_after"] == pytest.approx(3.0)


def test_report_csv_and_table(runner):
    rows = list(csv.reader(io.StringIO(runner.invoke(cli, ["report", *PERIOD, "--format",
                                                           "csv"]).output)))
    assert rows[0] == ["section", "key", "metric", "value"]
    figures = {(s, k, m): v for s, k, m, v in rows[1:]}
    assert figures[("summary", "", "waiting_past_target")] == "5"
    assert figures[("offers", "refund_delivery_fee", "value_EUR")] == "12"
    table = runner.invoke(cli, ["report", *PERIOD]).output
    assert "response rate" in table and "64.7%" in table
    assert runner.invoke(cli, ["report", "--since", "later"]).exit_code == 2


def test_export_formats(runner, tmp_path):
    result = runner.invoke(cli, ["export", "--format", "csv", *PERIOD])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 19 and "exported 19 reviews" in result.stderr
    everything = runner.invoke(cli, ["export", "--format", "jsonl",
                                     "-o", str(tmp_path / "a.jsonl")])
    assert everything.exit_code == 0
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    assert len(lines) == 21
    item = json.loads(lines[0])
    assert {"drafts", "reply_text", "offer_id", "approved_by", "hours_to_reply"} <= set(item)


def test_export_defuses_spreadsheet_formulas(database, policy, make_review, database_url,
                                             monkeypatch):
    from plugin.classify import classifier_for
    from plugin.store.reviews import ingest

    review = make_review(text="=HYPERLINK(\"http://evil.example\")", author="@admin")
    with database.session() as session:
        ingest(session, review, classifier_for(policy).classify(review))
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", database_url)
    output = CliRunner().invoke(cli, ["export", "--format", "csv"]).stdout
    row = next(csv.DictReader(io.StringIO(output)))
    assert row["text"].startswith("'=HYPERLINK") and row["author"] == "'@admin"
