"""Queue and dashboard latency at 100,000 and 1,000,000 reviews, on SQLite and PostgreSQL, and
what ten times the data costs.

The history grows at a constant rate (`--per-day`, 274 reviews a day: 100,000 is a year of
them, 1,000,000 ten years), the way a table grows in production: the queue and the dashboard's
last 30 days then show the same amount of work at both sizes, and any figure that grows with
the table shows up in the ratio. Reviews, drafts and revisions go in as bulk inserts (Core
executemany on SQLite, COPY on PostgreSQL); the tallies and the search index are then made as
the migration makes them, from the rows, which leaves them as production's triggers and the
worker's fold would (the tests check that the two agree).

Measured through the Flask test client, signed in, after a warm-up: the queue's first page, a
filtered page, a deep page reached by its keyset cursor, and the insights dashboard (30 days).
Prints median and p95 of each, then the 1M / 100k ratio of the p95s (targets: queue p95 under
50 ms and ratio at most 1.3; dashboard p95 under 300 ms and ratio at most 2).

    python bench/scale.py [--sizes 100000,1000000] [--engine both] [--requests 60]
    MAKERIGHT_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test (the default)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from queue_latency import seeded_client, timed  # noqa: E402

from plugin.context import get_db  # noqa: E402
from plugin.store import search, tallies  # noqa: E402
from plugin.store.db import scratch_schema  # noqa: E402
from plugin.store.models import DraftRow, ReviewRow, RevisionRow, utcnow  # noqa: E402

POSTGRES = os.environ.get("MAKERIGHT_BENCH_POSTGRES_URL",
                          "postgresql://postgres@127.0.0.1:5432/test")
PLACES = [("google_business", "gbp-quay", "Dock St"), ("google_business", "gbp-market",
          "Mill Rd"), ("google_play", "play-main", ""), ("app_store", "asc-main", "")]
BRANDS = [None, "harbour", "harbour", "mill"]
CATEGORIES = ["delivery", "damaged", "wrong_item", "quality", "staff", "wait", "cleanliness",
              "billing", "crash", "login", "performance", "ads"]
OFFERS = [None, None, "refund_delivery_fee", "replace_item", "app_callback",
          "next_visit_discount", "goodwill_voucher", "correct_charge"]
WORDS = ("late", "cold", "broken", "rude", "slow", "crashed", "lovely", "charged", "waited",
         "order", "coffee", "cake", "app", "delivery", "staff", "again", "never", "really",
         "tarde", "frío", "kaputt", "bahut", "thanda", "😡", "🙏")
LANGUAGES = ("en", "en", "en", "es", "de", "fr", "pt")
CHUNK = 5000
PASSWORD = "queue latency probe 7"


def reviews(count: int, per_day: float, rng: random.Random) -> Iterator[
        tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]]:
    """(review, draft or None, revision or None) rows, ids 1..count, written over
    count / per_day days up to now; older reviews are mostly answered, recent ones open."""
    now = utcnow().replace(tzinfo=None)
    span = int(count / per_day * 24 * 60)
    for i in range(1, count + 1):
        platform, source, location = rng.choice(PLACES)
        created = now - timedelta(minutes=rng.randrange(span))
        rating = rng.choices([1, 2, 3, 4, 5], [30, 15, 10, 15, 30])[0]
        status, approved_at, posted_at, approved_by = "new", None, None, None
        roll = rng.random()
        if created < now - timedelta(days=3) or roll < 0.5:
            status = rng.choices(["posted", "skipped", "drafted", "needs_attention"],
                                 [90, 6, 3, 1])[0]
        elif roll < 0.8:
            status = rng.choice(["drafted", "drafted", "approved", "failed", "draft_failed"])
        if status == "posted":
            posted_at = created + timedelta(hours=rng.expovariate(1 / 20))
            approved_at = posted_at - timedelta(minutes=5)
            approved_by = rng.choice(["alice", "bob"])
        escalated = rng.random() < 0.02
        has_draft = status not in ("new", "skipped")
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 30)))
        offer = rng.choice(OFFERS) if has_draft else None
        review = {
            "id": i, "platform": platform, "external_id": f"s{i}", "source": source,
            "author": f"Customer {i}", "rating": rating, "title": "", "text": body,
            "language": rng.choice(LANGUAGES), "declared_language": None,
            "review_created_at": created, "review_updated_at": None, "platform_reply": None,
            "platform_reply_at": None, "url": None,
            "metadata": {"location": location} if location else {},
            "content_hash": uuid.uuid4().hex,
            "categories": rng.sample(CATEGORIES, rng.choice([0, 1, 1, 2])),
            "escalation_reasons": ["legal"] if escalated else [], "escalated": escalated,
            "answerable": True, "status": status, "status_reason": "",
            "status_changed_at": posted_at or created, "received_at": created,
            "follow_up": False, "current_draft_id": i if has_draft else None,
            "policy": rng.choice(BRANDS) if has_draft else None,
            "has_offer": offer is not None, "violation_count": int(rng.random() < 0.04),
            "approved_by": approved_by, "approved_at": approved_at,
            "approved_text_hash": None, "posted_at": posted_at,
            "post_state": "published" if posted_at else None,
            "public_state": rng.choice(["published", "published", "posted", None])
            if posted_at else None,
            "public_reason": None, "public_checks": 0, "last_error": None, "attempts": 0,
            "next_attempt_at": None, "claimed_by": None, "lease_until": None,
            "assignee": rng.choice([None, None, None, "alice", "bob"])}
        draft = {
            "id": i, "review_id": i, "version": 1, "text": f"Sorry about that, {body[:40]}",
            "engine": rng.choice(["offline", "offline", "llm", "human"]), "language": "en",
            "offer_id": offer, "violations": [], "note": "", "instruction": None,
            "created_by": "system", "created_at": created + timedelta(minutes=1),
            "prompt_tokens": 0, "completion_tokens": 0} if has_draft else None
        revision = None
        if posted_at and rng.random() < 0.08:
            revision = {"review_id": i, "content_hash": uuid.uuid4().hex, "rating": rating,
                        "title": "", "text": body, "review_updated_at": None,
                        "recorded_at": posted_at + timedelta(days=1)}
            review["rating"] = min(5, rating + rng.choice([0, 1, 2, 3]))
        yield review, draft, revision


def seed(engine: Engine, count: int, per_day: float) -> None:
    rng = random.Random(7)
    batches: dict[str, list[dict[str, Any]]] = {"reviews": [], "drafts": [],
                                                "review_revisions": []}
    tables = {"reviews": ReviewRow.__table__, "drafts": DraftRow.__table__,
              "review_revisions": RevisionRow.__table__}
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        # Loaded without the triggers, which are then made as the migration makes them: the
        # tallies counted from the rows (one row per key, as the worker's fold leaves them)
        # and the search index built once. The end state is production's, in a fraction of
        # the time row-by-row triggers take.
        tallies.drop(connection)
        with search.bulk_load(connection):

            def flush() -> None:
                for name, rows in batches.items():
                    if not rows:
                        continue
                    if postgres:
                        _copy(connection, name, rows)
                    else:
                        connection.execute(insert(tables[name]), rows)
                    rows.clear()

            for review, draft, revision in reviews(count, per_day, rng):
                batches["reviews"].append(review)
                if draft:
                    batches["drafts"].append(draft)
                if revision:
                    batches["review_revisions"].append(revision)
                if len(batches["reviews"]) >= CHUNK:
                    flush()
            flush()
        tallies.create(connection)
        if postgres:
            for table in ("reviews", "drafts", "review_revisions"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', "
                                        f"'id'), (SELECT max(id) FROM {table}))"))
    if postgres:
        # What autovacuum does after a bulk load: statistics and the visibility map.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("reviews", "drafts", "review_revisions", "review_tallies"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def _copy(connection, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY rows into a PostgreSQL table (JSON values as text), through the open transaction."""
    columns = list(rows[0])
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, dict | list) else v
                            for v in row.values()])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


@contextmanager
def database_url(engine_name: str) -> Iterator[str]:
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/scale.sqlite"
    else:
        with scratch_schema(POSTGRES, "bench_scale") as url:
            yield url


def deep_cursor(app, depth: int) -> int:
    """The id of the review at `depth` in the default view (open, oldest first)."""
    from plugin.web.filters import QueueFilter

    view = QueueFilter()
    with app.app_context(), get_db().session(read_only=True) as session:
        stmt = view._where(select(ReviewRow.id).where(ReviewRow.status.in_(view.statuses)))
        found = session.scalar(stmt.order_by(*view.order()).offset(depth - 1).limit(1))
        assert found is not None, f"the open queue is shorter than {depth}"
        return found


def measure(engine_name: str, count: int, per_day: float, requests: int,
            ) -> dict[str, tuple[float, float]]:
    with database_url(engine_name) as url:
        app, client = seeded_client(engine_name, url, count,
                                    seeding=lambda engine, n: seed(engine, n, per_day))
        size = int(app.config["QUEUE_PAGE_SIZE"])
        depth = min(400 * size, count // 40)  # deep in the open queue at either size
        pages = {
            "queue first": "/queue",
            "queue filter": "/queue?rating=1&platform=google_play&sort=newest",
            "queue deep": f"/queue?page={depth // size + 1}&after={deep_cursor(app, depth)}",
            "dashboard": "/insights/?since=30d",
        }
        results = {}
        for label, url in pages.items():
            timed(client, [url] * 3)  # warm caches and the template compiler
            values = timed(client, [url] * requests)
            results[label] = (statistics.median(values), p95(values))
            print(f"{engine_name:10} {count:>9,} {label:13} median {results[label][0]:7.1f} ms"
                  f"  p95 {results[label][1]:7.1f} ms", flush=True)
        with app.app_context():
            get_db().dispose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--per-day", type=float, default=274.0)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    for engine_name in engines:
        results = {size: measure(engine_name, size, args.per_day, args.requests)
                   for size in sizes}
        if len(sizes) > 1:
            small, large = results[sizes[0]], results[sizes[-1]]
            for label in small:
                ratio = large[label][1] / small[label][1]
                limit = 2.0 if label == "dashboard" else 1.3
                target = 300 if label == "dashboard" else 50
                verdict = "OK" if ratio <= limit and large[label][1] < target else "OVER"
                print(f"{engine_name:10} {label:13} p95 {sizes[-1]:,} / {sizes[0]:,}: "
                      f"{ratio:4.2f}x (target <= {limit}x, p95 < {target} ms: {verdict})")
    print(f"load average at end: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
