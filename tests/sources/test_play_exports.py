"""Play's monthly review exports: read as Google writes them, imported once, from disk or
Cloud Storage (the storage JSON API through the official client, answered by `responses`)."""
from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from click.testing import CliRunner
from responses import matchers
from sqlalchemy import func, select

from connectors.base import Review
from connectors.play_exports import HEADER, ExportError, parse_export, read_storage
from plugin.classify import classifier_for
from plugin.commands.main import cli
from plugin.commands.play_import import import_reviews
from plugin.store.models import ReviewRow
from plugin.store.reviews import ingest
from tests.connectors.support import service_account_info

EXPORT = Path(__file__).parent.parent / "data" / "reviews_com.harbour.budget_202609.csv"
BUCKET = "pubsite_prod_rev_05566778899"
OBJECT = "reviews/reviews_com.harbour.budget_202609.csv"


def utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


def test_the_export_reads_as_google_writes_it():
    data = EXPORT.read_bytes()
    assert data[:2] == b"\xff\xfe"
    assert data[2:].decode("utf-16-le").splitlines()[0].split(",") == list(HEADER)

    export = parse_export(data, EXPORT.name)

    assert export.errors == [] and export.rating_only == 2
    ids = [r.external_id for r in export.reviews]
    assert ids == ["gp:AOqpTOFh1xk2", "gp:AOqpTOGz88aa", "gp:AOqpTOK0ppl3", "gp:AOqpTOW1dg3t"]
    crash, sync, hindi, widget = export.reviews
    assert (crash.rating, crash.source, crash.reply) == (1, "com.harbour.budget", None)
    assert sync.title == "Sync roto" and sync.reply.text.startswith("Hola, lo sentimos")
    assert sync.updated_at > sync.created_at
    assert "premium unlock nahi hua" in hindi.text and hindi.metadata["device"] == "RMX3363"
    assert widget.text.endswith('"budget left: NaN"') and widget.reply is not None


def test_bad_rows_are_named_by_line_and_the_rest_kept():
    row = ["com.harbour.budget", "", "", "en", "", "", "1788419564000", "", "", "1", "",
           "crash", "", "", "", "https://play.google.com/console/x?reviewId=gp:ok1"]
    no_link = [*row[:15], ""]
    bad_stars = [*row[:9], "six", *row[10:15], "https://play.google.com/console/x?reviewId=gp:b"]
    lines = [",".join(HEADER), ",".join(row), ",".join(no_link), ",".join(bad_stars)]

    export = parse_export(utf16("\n".join(lines) + "\n"), "reviews_x.csv")

    assert [r.external_id for r in export.reviews] == ["gp:ok1"]
    assert export.errors == [
        "line 3: Review Link: has no reviewId, so the review cannot be answered",
        "line 4: Star Rating: must be 1 to 5, got 'six'"]


@pytest.mark.parametrize("data, problem", [
    (",".join(HEADER).encode("utf-8"), "is not UTF-16 text"),
    (utf16("Package Name,Star Rating,Review Text\n"), "missing: App Version Code"),
])
def test_a_file_that_is_not_an_export_is_refused_with_its_name(data, problem):
    with pytest.raises(ExportError, match=problem):
        parse_export(data, "reviews_x.csv")


def test_import_counts_and_a_second_import_adds_nothing(database, policy):
    synced = Review(platform="google_play", external_id="gp:AOqpTOK0ppl3", rating=1,
                    source="com.harbour.budget", author="Ravi",
                    text="पैसे कट गए लेकिन premium unlock nahi hua 😡 refund do",
                    created_at=parse_export(EXPORT.read_bytes(), "x").reviews[2].created_at)
    with database.session() as session:
        ingest(session, synced, classifier_for(policy).classify(synced), actor="sync:play")
    reviews = parse_export(EXPORT.read_bytes(), EXPORT.name).reviews

    first = import_reviews(database, policy, reviews)
    second = import_reviews(database, policy, reviews)

    assert (first["new"], first["with_reply"], first["known"]) == (3, 2, 1)
    assert (second["new"], second["known"]) == (0, 4)
    with database.session() as session:
        assert session.scalar(select(func.count(ReviewRow.id))) == 4
        kept = session.scalar(select(ReviewRow).where(ReviewRow.external_id == "gp:AOqpTOK0ppl3"))
        assert kept.author == "Ravi"  # the synced copy is left as it was


def test_the_command_imports_a_file(tmp_path, monkeypatch, policy):
    monkeypatch.setenv("MAKERIGHT_DATABASE_URL", f"sqlite:///{tmp_path / 'mr.db'}")
    runner = CliRunner()
    first = runner.invoke(cli, ["import-play-reviews", str(EXPORT)])
    again = runner.invoke(cli, ["import-play-reviews", str(EXPORT)])
    assert first.exit_code == 0, first.output
    assert "4 new (2 already answered), 0 already known, 2 rating-only skipped, 0 rejected" \
        in first.output
    assert "0 new (0 already answered), 4 already known" in again.output


def test_gs_files_come_through_the_storage_json_api_with_the_service_account():
    info = service_account_info()
    listing = {"kind": "storage#objects", "items": [
        {"kind": "storage#object", "id": f"{BUCKET}/{OBJECT}/1", "name": OBJECT,
         "bucket": BUCKET, "size": str(EXPORT.stat().st_size), "contentType": "text/csv"},
        {"kind": "storage#object", "id": f"{BUCKET}/reviews/README/1", "name": "reviews/README",
         "bucket": BUCKET, "size": "12"}]}
    with responses.RequestsMock() as mocked:
        token = mocked.post(info["token_uri"], json={"access_token": "ya29.storage",
                                                     "expires_in": 3600,
                                                     "token_type": "Bearer"})
        mocked.get(f"https://storage.googleapis.com/storage/v1/b/{BUCKET}/o", json=listing,
                   match=[matchers.query_param_matcher({"prefix": "reviews/"}, strict_match=False)])
        download = mocked.get(
            f"https://storage.googleapis.com/download/storage/v1/b/{BUCKET}/o/"
            "reviews%2Freviews_com.harbour.budget_202609.csv",
            body=EXPORT.read_bytes(), content_type="text/csv",
            match=[matchers.query_param_matcher({"alt": "media"}, strict_match=False)])

        files = read_storage(f"gs://{BUCKET}/reviews/", json.dumps(info))

    assert [name for name, _ in files] == [f"gs://{BUCKET}/{OBJECT}"]
    assert files[0][1] == EXPORT.read_bytes()
    assert download.calls[0].request.headers["Authorization"] == "Bearer ya29.storage"
    form = parse_qs(token.calls[0].request.body.decode())
    claims = jwt.decode(form["assertion"][0], options={"verify_signature": False})
    assert claims["iss"] == info["client_email"]
    assert claims["scope"] == "https://www.googleapis.com/auth/devstorage.read_only"


def test_a_reply_to_an_imported_review_posts_through_the_play_source(
        instance, fake, runner, tmp_path, monkeypatch, policy):
    from datetime import datetime

    from plugin.actions import Actor, approve
    from plugin.drafting import draft_review
    from plugin.pipeline.poster import post_one
    from plugin.runtime import connector_resolver
    from plugin.store.reviews import save_draft, to_review
    from tests.sources.conftest import add_args
    from tests.sources.fake_platforms import FakeReview

    assert runner.invoke(cli, add_args("google_play", fake, tmp_path, monkeypatch)).exit_code == 0
    # Eight months old: the list call no longer shows it, reviews.get and :reply still work.
    fake.reviews["google_play"] = [FakeReview("gp:AOqpTOold1", 1, "crash on start since 3.9",
                                              datetime(2026, 3, 2, 8, tzinfo=UTC))]
    row = ["com.example.budget", "390", "3.9.0", "en", "a52q", "", "1772438400000", "",
           "1772438400000", "1", "", "crash on start since 3.9", "", "", "",
           "https://play.google.com/console/x/review-details?reviewId=gp%3AAOqpTOold1"]
    export = tmp_path / "reviews_com.example.budget_202603.csv"
    export.write_bytes(utf16(",".join(HEADER) + "\n" + ",".join(row) + "\n"))

    result = runner.invoke(cli, ["import-play-reviews", str(export)])
    assert result.exit_code == 0 and "1 new" in result.output, result.output

    database = instance.database()
    with database.session() as session:
        stored = session.scalar(select(ReviewRow).where(ReviewRow.external_id == "gp:AOqpTOold1"))
        assert stored.source == "budget-android"
        save_draft(session, stored, draft_review(to_review(stored), policy))
        approve(session, stored, policy, Actor("ana", "approver"), override_reason="checked")
        review_id, text, review = stored.id, stored.drafts[-1].text, to_review(stored)
    connector = connector_resolver(database, instance.path)(review)  # as the worker finds it
    outcome = post_one(database, review_id, connector, Actor("ana", "approver"))
    database.dispose()
    assert outcome.status == "posted"
    assert fake.replies["gp:AOqpTOold1"] == text
