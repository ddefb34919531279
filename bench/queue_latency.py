"""Queue page and review page latency at 100,000 reviews, on SQLite and PostgreSQL.

Seeds with bulk Core inserts (the ORM path would take minutes and measures nothing of interest),
then times requests through the Flask test client, so the figures include routing, the queries,
template rendering and the security middleware, but not a network hop.

    python bench/queue_latency.py [--reviews 100000] [--requests 200]
    MAKERIGHT_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test (the default)
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugin.accounts import add_user  # noqa: E402
from plugin.app import create_app  # noqa: E402
from plugin.context import get_db  # noqa: E402
from plugin.store import migrate  # noqa: E402
from plugin.store.models import DraftRow, ReviewRow  # noqa: E402

POSTGRES = os.environ.get("MAKERIGHT_BENCH_POSTGRES_URL",
                          "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "bench_queue_latency"
PLATFORMS = ("google_business", "google_play", "app_store")
LANGUAGES = ("en", "en", "en", "es", "de", "fr", "pt")
STATUSES = ("drafted",) * 6 + ("needs_attention", "approved", "posted", "posted", "skipped",
                                "new", "failed")
CATEGORIES = (["delivery"], ["damaged"], ["crash"], ["login"], ["staff"], ["billing"], [])
WORDS = ("late", "cold", "broken", "rude", "slow", "crashed", "lovely", "charged", "waited",
         "order", "coffee", "cake", "app", "delivery", "staff", "again", "never", "really")


def seed(engine, count: int) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC).replace(tzinfo=None)
    chunk = 5000
    with engine.begin() as connection:
        for start in range(1, count + 1, chunk):
            reviews, drafts = [], []
            for i in range(start, min(start + chunk, count + 1)):
                body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
                status = rng.choice(STATUSES)
                escalated = rng.random() < 0.03
                created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
                reviews.append({
                    "id": i, "platform": rng.choice(PLATFORMS), "external_id": f"bench-{i}",
                    "source": rng.choice(("play-main", "asc-main", "gbp-quay", "gbp-market")),
                    "author": f"Customer {i}", "rating": rng.choice((1, 1, 2, 2, 3, 4, 5)),
                    "title": "", "text": body.capitalize() + ".",
                    "language": rng.choice(LANGUAGES), "declared_language": None,
                    "review_created_at": created, "review_updated_at": None,
                    "platform_reply": None, "platform_reply_at": None, "url": None,
                    "metadata": {"app_version": "3.4.1"},
                    "content_hash": hashlib.sha256(body.encode()).hexdigest(),
                    "categories": rng.choice(CATEGORIES),
                    "escalation_reasons": ["legal"] if escalated else [],
                    "escalated": escalated, "answerable": True, "status": status,
                    "status_reason": "", "status_changed_at": created, "received_at": created,
                    "follow_up": False, "current_draft_id": i,
                    "has_offer": rng.random() < 0.4, "violation_count": int(rng.random() < 0.05),
                    "attempts": 0})
                drafts.append({
                    "id": i, "review_id": i, "version": 1, "engine": "offline", "language": "en",
                    "text": f"Dear customer {i}, we are sorry. " + body, "offer_id": None,
                    "violations": [], "note": "", "instruction": None, "created_by": "system",
                    "created_at": created, "prompt_tokens": 0, "completion_tokens": 0})
            connection.execute(insert(ReviewRow.__table__), reviews)
            connection.execute(insert(DraftRow.__table__), drafts)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in ("reviews", "drafts"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"{count})"))
        # What autovacuum does after a bulk load: statistics, and the visibility map that lets
        # the status counts read the covering index alone.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE reviews"))
            connection.execute(text("VACUUM ANALYZE drafts"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


QUEUE_URLS = (
    "/queue",
    "/queue?rating=1",
    "/queue?status=drafted&rating=1&platform=google_play",
    "/queue?sort=newest&language=de&page={page}",
    "/queue?status=needs_attention&escalated=yes",
    "/queue?offer=yes&violations=no&sort=rating&page={page}",
    "/queue?status=all&source=gbp-quay&sort=rating",
    "/queue?page={page}",
)


def timed(client, urls: list[str]) -> list[float]:
    spent = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        spent.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return spent


def report(engine_name: str, label: str, values: list[float]) -> None:
    values = sorted(values)
    p95 = values[max(0, int(len(values) * 0.95) - 1)]
    print(f"{engine_name:10} {label:12} n={len(values):4}"
          f"  median {statistics.median(values):6.1f} ms  p95 {p95:6.1f} ms")


PASSWORD = "queue latency probe 7"


def seeded_client(engine_name: str, url: str, count: int, what: str = "reviews",
                  seeding: Callable[[Any, int], None] | None = None):
    """A migrated database seeded with `count` reviews (by `seeding`, else this bench's seed)
    and a client signed in as an approver, the starting point the queue, search and scale
    benches share."""
    app = create_app({"SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": url,
                      "TESTING": True, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        database = get_db()
        migrate.upgrade(database.engine)
        started = time.perf_counter()
        (seeding or seed)(database.engine, count)
        print(f"{engine_name:10} {count:>9,} {what} seeded in "
              f"{time.perf_counter() - started:6.1f} s", flush=True)
        with database.session() as session:
            add_user(session, "bench", "approver", PASSWORD)
    client = app.test_client()
    assert client.post("/login", data={"name": "bench", "password": PASSWORD}
                       ).status_code == 302
    return app, client


def run(engine_name: str, url: str, count: int, requests: int) -> None:
    app, client = seeded_client(engine_name, url, count)
    rng = random.Random(11)
    queue = [rng.choice(QUEUE_URLS).format(page=rng.randint(1, 40)) for _ in range(requests)]
    reviews = [f"/reviews/{rng.randint(1, count)}" for _ in range(requests)]
    timed(client, queue[:20] + reviews[:20])  # warm caches and the template compiler
    report(engine_name, "queue list", timed(client, queue))
    report(engine_name, "review page", timed(client, reviews))
    with app.app_context():
        get_db().dispose()


def postgres_url() -> str | None:
    try:
        admin = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        admin.dispose()
    except Exception as exc:  # any driver or network failure means "not reachable"
        print(f"postgresql skipped: {POSTGRES} is not reachable ({exc.__class__.__name__})")
        return None
    separator = "&" if "?" in POSTGRES else "?"
    return f"{POSTGRES}{separator}options=-csearch_path%3D{SCHEMA}"


def drop_postgres_schema() -> None:
    admin = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    admin.dispose()


def run_on_engines(run: Callable[[str, str, int, int], None], description: str) -> None:
    """The command line the queue and search benches share: sizes, then each engine in turn on a
    scratch SQLite file and a scratch PostgreSQL schema."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            run("sqlite", f"sqlite:///{folder}/bench.sqlite", args.reviews, args.requests)
    if args.engine in ("postgresql", "both"):
        url = postgres_url()
        if url:
            try:
                run("postgresql", url, args.reviews, args.requests)
            finally:
                drop_postgres_schema()


def main() -> None:
    run_on_engines(run, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
