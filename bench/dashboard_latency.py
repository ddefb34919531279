"""Insights dashboard latency on 100,000 reviews, on SQLite and PostgreSQL.

Seeds a year of reviews (with drafts, approvals, posted replies, customer edits and escalations)
through fast Core bulk inserts, then renders /insights/ (last 30 days) through the Flask test
client and prints the median and p95 of the render time. Target: p95 under 300 ms.
PostgreSQL runs in a fresh schema on MAKERIGHT_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test) and is skipped with a message when unreachable.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugin.app import create_app  # noqa: E402
from plugin.store import migrate  # noqa: E402
from plugin.store.db import Database, scratch_schema  # noqa: E402
from plugin.store.models import DraftRow, ReviewRow, RevisionRow, utcnow  # noqa: E402

PG_URL = os.environ.get("MAKERIGHT_BENCH_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
PLACES = [("google_business", "Harbour Lane", "Dock St"), ("google_business", "Harbour Lane",
          "Mill Rd"), ("google_play", "com.harbour.app", ""), ("app_store", "123456", "")]
CATEGORIES = ["delivery", "damaged", "wrong_item", "quality", "staff", "wait", "cleanliness",
              "billing", "crash", "login", "performance", "ads"]
OFFERS = [None, None, "refund_delivery_fee", "replace_item", "app_callback",
          "next_visit_discount", "goodwill_voucher", "correct_charge"]
ENGINES = ["offline", "offline", "llm", "human"]
BATCH = 5000


def seed(database: Database, count: int, rnd: random.Random) -> None:
    now = utcnow()
    reviews, drafts, revisions = [], [], []

    def flush(connection) -> None:
        for table, rows in ((ReviewRow.__table__, reviews), (DraftRow.__table__, drafts),
                            (RevisionRow.__table__, revisions)):
            if rows:
                connection.execute(table.insert(), rows)
                rows.clear()

    with database.engine.begin() as connection:
        for i in range(1, count + 1):
            platform, source, location = rnd.choice(PLACES)
            created = now - timedelta(minutes=rnd.randrange(365 * 24 * 60))
            rating = rnd.choices([1, 2, 3, 4, 5], [30, 15, 10, 15, 30])[0]
            status, approved_at, posted_at, approved_by = "new", None, None, None
            roll = rnd.random()
            if created < now - timedelta(days=3) or roll < 0.5:
                status = rnd.choices(["posted", "skipped", "drafted", "needs_attention"],
                                     [90, 6, 3, 1])[0]
            elif roll < 0.8:
                status = "drafted"
            if status == "posted":
                posted_at = created + timedelta(hours=rnd.expovariate(1 / 20))
                approved_at = posted_at - timedelta(minutes=5)
                approved_by = rnd.choice(["alice", "bob"])
            escalated = rnd.random() < 0.02
            has_draft = status != "new" and status != "skipped"
            reviews.append({
                "id": i, "platform": platform, "external_id": f"b{i}", "source": source,
                "author": "Sam", "rating": rating, "title": "", "text": f"Review {i}",
                "language": rnd.choice(["en", "en", "en", "es", "de", "fr"]),
                "declared_language": None, "review_created_at": created,
                "review_updated_at": None, "platform_reply": None, "platform_reply_at": None,
                "url": None, "metadata": {"location": location} if location else {},
                "content_hash": uuid.uuid4().hex,
                "categories": rnd.sample(CATEGORIES, rnd.choice([0, 1, 1, 2])),
                "escalation_reasons": ["legal"] if escalated else [], "escalated": escalated,
                "answerable": True, "status": status, "status_reason": "",
                "status_changed_at": posted_at or created, "received_at": created,
                "follow_up": False, "current_draft_id": i if has_draft else None,
                "has_offer": False, "violation_count": 0, "approved_by": approved_by,
                "approved_at": approved_at, "approved_text_hash": None, "posted_at": posted_at,
                "post_state": "published" if posted_at else None, "last_error": None,
                "attempts": 0, "next_attempt_at": None, "claimed_by": None, "lease_until": None})
            if has_draft:
                drafts.append({
                    "id": i, "review_id": i, "version": 1, "text": f"Reply {i}",
                    "engine": rnd.choice(ENGINES), "language": "en",
                    "offer_id": rnd.choice(OFFERS), "violations": [], "note": "",
                    "instruction": None, "created_by": "system",
                    "created_at": created + timedelta(minutes=1), "prompt_tokens": 0,
                    "completion_tokens": 0})
            if posted_at and rnd.random() < 0.08:
                revisions.append({
                    "review_id": i, "content_hash": uuid.uuid4().hex, "rating": rating,
                    "title": "", "text": f"Review {i}", "review_updated_at": None,
                    "recorded_at": posted_at + timedelta(days=1)})
                reviews[-1]["rating"] = min(5, rating + rnd.choice([0, 1, 2, 3]))
            if len(reviews) >= BATCH:
                flush(connection)
        flush(connection)
        if database.engine.dialect.name == "postgresql":
            for table in ("reviews", "drafts"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})"))
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))


def measure(url: str, label: str, count: int, runs: int) -> None:
    database = Database(url)
    migrate.upgrade(database.engine)
    started = time.perf_counter()
    seed(database, count, random.Random(11))
    seeded = time.perf_counter() - started
    database.dispose()
    app = create_app({"DATABASE_URL": url, "LOGIN_DISABLED": True,
                      "SECRET_KEY": secrets.token_hex(32)})
    if app.login_manager._user_callback is None and app.login_manager._request_callback is None:
        app.login_manager.request_loader(lambda _request: None)
    client = app.test_client()
    timings = []
    for run in range(runs + 3):
        begin = time.perf_counter()
        response = client.get("/insights/?since=30d")
        elapsed = (time.perf_counter() - begin) * 1000
        assert response.status_code == 200, response.status_code
        if run >= 3:  # the first renders warm caches and compile templates
            timings.append(elapsed)
    timings.sort()
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    verdict = "OK" if p95 < 300 else "OVER TARGET"
    print(f"{label:<10} {count:>7} reviews seeded in {seeded:5.1f} s; dashboard over {runs} "
          f"renders: median {statistics.median(timings):6.1f} ms, p95 {p95:6.1f} ms "
          f"(target < 300 ms: {verdict})", flush=True)
    app.extensions["makeright.db"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure(f"sqlite:///{Path(folder) / 'bench.sqlite'}", "sqlite", args.reviews, args.runs)
    try:
        with scratch_schema(PG_URL, "bench") as scoped:
            measure(scoped, "postgresql", args.reviews, args.runs)
    except OperationalError as exc:
        print(f"postgresql skipped: {PG_URL} is not reachable ({exc.__class__.__name__})")

if __name__ == "__main__":
    main()
