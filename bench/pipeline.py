"""End-to-end pipeline throughput and database round trips on PostgreSQL, 1, 2 and 4 workers.

For each worker count, in a fresh schema: ingest N five-star reviews, then start the workers
(real processes run as `makeright worker` runs them: default settings, posting
concurrency included, outbound events recorded (no endpoint configured); auto-approval on with
no delay) which draft offline, auto-approve and post to a fake platform on loopback that
takes 20 ms per reply write. Measures from the workers' start until every review is posted,
checks that the platform stored exactly one write per review, and prints throughput, the
scaling ratios and the database round trips per review.

Round trips are counted in each process from SQLAlchemy's events (tests/roundtrips.py): every
statement, every BEGIN psycopg sends, every COMMIT and ROLLBACK, and the pre-ping of every
connection taken from the pool. Ingest is counted in this process, the workers in theirs (each
writes its count when it stops), so the idle ticks of a worker waiting at the end are included.

Targets: one worker >= 50 reviews/s, <= 12 round trips per review from ingest to posted,
>= 1.7x from 1 to 2 workers, zero duplicates.

    python bench/pipeline.py [--url postgresql://postgres@127.0.0.1:5432/test] [--reviews 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pipeline"))

from fake_platform import FakePlatform  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from connectors.base import Review  # noqa: E402
from plugin import intake  # noqa: E402
from plugin.policy import load_policy  # noqa: E402
from plugin.store import migrate, states  # noqa: E402
from plugin.store.db import Database, scratch_schema  # noqa: E402
from plugin.store.models import ReviewRow  # noqa: E402
from tests.roundtrips import counting  # noqa: E402

PRAISE = ["Great coffee and friendly people.", "Lovely bakery, great bread!",
          "Best cinnamon buns we have had in years.", "Always a pleasure, thank you!"]
RUN_WORKER = ROOT / "tests" / "pipeline" / "run_worker.py"


def reviews(count: int) -> list[Review]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    # A location each: Google holds a reply too like another of its location (REPETITIVE),
    # and four texts of praise drafted at one location would be held rather than posted.
    return [Review(platform="google_business", external_id=f"bench-{i}", rating=5,
                   created_at=start + timedelta(seconds=i), author="Jane Doe",
                   source=f"accounts/7/locations/bench-{i}",
                   text=PRAISE[i % len(PRAISE)], language="en") for i in range(count)]


def ingest(db: Database, count: int) -> tuple[float, int]:
    """Seconds and database round trips to take `count` reviews in through intake."""
    policy = load_policy()
    items = reviews(count)
    door = intake.Door("bench")
    began = time.perf_counter()
    with counting(db.engine) as trips:
        for start in range(0, count, intake.BATCH_SIZE):
            with db.session() as session:
                intake.take_in(session, items[start:start + intake.BATCH_SIZE], policy, door)
    return time.perf_counter() - began, trips.total


def run(url: str, workers: int, count: int, delay: float, timeout: float) -> dict:
    with scratch_schema(url, "bench") as scoped, tempfile.TemporaryDirectory() as folder:
        return _run(scoped, Path(folder), workers, count, delay, timeout)


def _run(scoped: str, folder: Path, workers: int, count: int, delay: float,
         timeout: float) -> dict:
    db = Database(scoped)
    migrate.upgrade(db.engine)
    platform = FakePlatform(delay=delay).start()
    processes: list[subprocess.Popen] = []
    trips = [folder / f"worker-{n}.json" for n in range(workers)]
    try:
        ingest_seconds, ingest_trips = ingest(db, count)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        processes = [subprocess.Popen(
            [sys.executable, str(RUN_WORKER), scoped, platform.base_url, "--auto-approve",
             "--defaults", "--quiet", "--name", f"bench-{n}", "--round-trips", str(trips[n])])
            for n in range(workers)]
        posted = 0
        while posted < count:
            if time.perf_counter() - began > timeout:
                raise SystemExit(f"timed out with {posted}/{count} posted")
            time.sleep(0.1)
            with db.session() as session:
                posted = session.scalar(select(func.count(ReviewRow.id))
                                        .where(ReviewRow.status == states.POSTED)) or 0
        seconds = time.perf_counter() - began
        for process in processes:
            process.send_signal(signal.SIGTERM)
        exits = [process.wait(timeout=60) for process in processes]
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        worker_trips = sum(json.loads(path.read_text())["total"] for path in trips
                           if path.exists())
        counts = platform.write_counts()
        return {"workers": workers, "ingest": ingest_seconds, "seconds": seconds,
                "rate": count / seconds, "writes": sum(counts.values()),
                "requests": len(platform.write_requests), "distinct": len(counts),
                "duplicates": sum(n - 1 for n in counts.values() if n > 1), "exits": exits,
                "ingest_trips": ingest_trips / count, "worker_trips": worker_trips / count,
                "trips_reported": all(path.exists() for path in trips),
                "cpu_ms": cpu * 1000 / count}
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        platform.stop()
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get(
        "MAKERIGHT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--reviews", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--delay", type=float, default=0.020, help="seconds per reply write")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every worker count this many times, interleaved, and compare "
                             "medians (a shared machine's load moves between runs)")
    args = parser.parse_args()
    print(f"{args.reviews} reviews, fake platform {args.delay * 1000:.0f} ms per write, "
          f"PostgreSQL, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    print(f"{'workers':>7} {'ingest s':>9} {'pipeline s':>11} {'reviews/s':>10} "
          f"{'writes':>7} {'duplicates':>10} {'trips/review: ingest':>21} {'worker':>7} "
          f"{'total':>6} {'worker CPU ms/review':>21} {'exit codes':>10}")
    results = []
    counts = [int(n) for n in args.workers.split(",")]
    for _ in range(args.rounds):
        for workers in counts:
            r = run(args.url, workers, args.reviews, args.delay, args.timeout)
            results.append(r)
            print(f"{r['workers']:>7} {r['ingest']:>9.2f} {r['seconds']:>11.2f} "
                  f"{r['rate']:>10.1f} {r['writes']:>7} {r['duplicates']:>10} "
                  f"{r['ingest_trips']:>21.2f} {r['worker_trips']:>7.2f} "
                  f"{r['ingest_trips'] + r['worker_trips']:>6.2f} {r['cpu_ms']:>21.2f} "
                  f"{','.join(map(str, r['exits'])):>10}", flush=True)
    rate = {n: statistics.median(r["rate"] for r in results if r["workers"] == n)
            for n in counts}
    label = "median " if args.rounds > 1 else ""
    for n in counts[1:]:
        print(f"scaling {counts[0]} -> {n} workers ({label}reviews/s {rate[counts[0]]:.1f} -> "
              f"{rate[n]:.1f}): {rate[n] / rate[counts[0]]:.2f}x")
    print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    ok = all(r["duplicates"] == 0 and r["writes"] == r["distinct"] == args.reviews
             and r["trips_reported"] for r in results)
    print("duplicates: none" if ok else "DUPLICATES, MISSING WRITES OR MISSING COUNTS")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
