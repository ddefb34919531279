"""Offline drafting and import throughput on 20,000 generated reviews.

Prints reviews/second for classify + draft + check (in this process) and for
`makeright import` into a fresh SQLite database (a child process), with peak memory of each.
Targets: drafting >= 2,000/s, import >= 1,000/s, peak memory < 300 MB, on one core.

The import is also set against its floor, measured in the same run: a raw `sqlite3`
executemany of the very rows the import stored into a copy of a freshly migrated empty
database (same indexes, same full-text triggers). The target is at most 3x that floor.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

PHRASES = {
    "en": ["The delivery was over an hour late and the cake was squashed.",
           "Staff were rude and we waited 40 minutes for coffee.",
           "The app crashes every time I try to log in.", "Lovely bakery, great bread!",
           "Charged twice for one order, still no answer.", "Tables were dirty and sticky."],
    "es": ["El pedido llegó tarde y la tarta estaba aplastada.",
           "El camarero fue muy grosero y esperamos mucho.",
           "La aplicación se cierra sola cada vez que la abro.", "¡Pan buenísimo, volveremos!"],
    "de": ["Die Lieferung kam eine Stunde zu spät und der Kuchen war zerdrückt.",
           "Die App stürzt beim Anmelden ständig ab.", "Super Bäckerei, sehr freundlich!"],
    "fr": ["La livraison est arrivée très en retard et le gâteau était écrasé.",
           "Le personnel était impoli et l'attente interminable.", "Excellent pain, merci !"],
    "pt": ["A entrega chegou muito atrasada e o bolo veio esmagado.",
           "A aplicação fecha sozinha sempre que faço login.", "Pão ótimo, adorei!"],
    "it": ["La consegna è arrivata in ritardo e la torta era schiacciata."],
}
PLATFORMS = ["google_business", "google_play", "app_store"]
NAMES = ["Jane Doe", "Tom", "Ana Silva", "A Google user", "", "Lukas", "Chloé", "João"]


def generate(count: int, path: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    languages = list(PHRASES)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            language = rng.choice(languages)
            text = rng.choice(PHRASES[language])
            rating = 5 if any(w in text for w in ("!", "great", "Super", "Excellent")) \
                else rng.randint(1, 3)
            out.write(json.dumps({
                "platform": rng.choice(PLATFORMS), "external_id": f"bench-{i}",
                "author": rng.choice(NAMES), "rating": rating, "text": f"{text} #{i % 97}",
                "created_at": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
            }, ensure_ascii=False) + "\n")


def bench_drafting(path: Path) -> tuple[int, float, float]:
    from connectors.base import Review
    from plugin.drafting import draft_review
    from plugin.policy import load_policy

    policy = load_policy()
    reviews = [Review.from_json(json.loads(line)) for line in path.open(encoding="utf-8")]
    draft_review(reviews[0], policy)  # load the language models before timing
    started, cpu = time.perf_counter(), time.process_time()
    violations = sum(len(draft_review(review, policy).violations) for review in reviews)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if violations:
        print(f"warning: {violations} violations in generated drafts", file=sys.stderr)
    return len(reviews), elapsed, cpu


def bench_json_floor(path: Path) -> float:
    """Seconds to parse and dump every review as JSON: the least any per-review work costs,
    measured in the same run so the ratio holds however busy the machine is."""
    lines = path.read_text(encoding="utf-8").splitlines()
    started = time.process_time()
    for line in lines:
        json.dumps(json.loads(line), ensure_ascii=False)
    return time.process_time() - started


def run_import(path: Path, instance: str) -> tuple[float, str]:
    """Wall time and summary of `makeright import path` into a fresh instance folder."""
    env = {**os.environ, "MAKERIGHT_INSTANCE": instance}
    env.pop("MAKERIGHT_DATABASE_URL", None)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "plugin.commands.main", "import", str(path)],
                          env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip()


def bench_import(path: Path) -> tuple[float, float, str, float, float]:
    """The import's wall time, peak memory and summary, the raw floor of the same rows, and the
    start: the same command on an empty file (process, imports, migrating the new database)."""
    with tempfile.TemporaryDirectory() as instance:
        elapsed, summary = run_import(path, instance)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        floor = bench_raw_floor(Path(instance) / "makeright.sqlite")
    with tempfile.TemporaryDirectory() as instance:
        nothing = Path(instance) / "empty.jsonl"
        nothing.touch()
        start, _ = run_import(nothing, instance)
    return elapsed, peak, summary, floor, start


def bench_raw_floor(imported: Path) -> float:
    """Seconds for plain `sqlite3` to executemany the reviews `imported` holds into a copy of a
    freshly migrated empty database: the least storing them can cost on this machine, now."""
    from plugin.store import migrate
    from plugin.store.db import Database

    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.sqlite"
        database = Database(f"sqlite:///{empty}")
        migrate.upgrade(database.engine)
        database.dispose()  # the last connection folds the WAL into the file
        target = Path(folder) / "floor.sqlite"
        shutil.copyfile(empty, target)
        with closing(sqlite3.connect(imported)) as source:
            rows = source.execute("SELECT * FROM reviews ORDER BY id").fetchall()
            columns = [c[1] for c in source.execute("PRAGMA table_info(reviews)")]
        names = ", ".join(f'"{name}"' for name in columns)
        marks = ", ".join("?" for _ in columns)
        with closing(sqlite3.connect(target, isolation_level=None)) as connection:
            started = time.perf_counter()
            connection.execute("BEGIN")
            connection.executemany(f"INSERT INTO reviews ({names}) VALUES ({marks})", rows)
            connection.execute("COMMIT")
            return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--import-only", action="store_true",
                        help="Skip the drafting part (it takes the longest).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reviews.jsonl"
        generate(args.count, path)
        count = args.count
        if not args.import_only:
            count, elapsed, cpu = bench_drafting(path)
            floor = bench_json_floor(path)
            draft_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"draft   {count} reviews in {elapsed:.2f} s = {count / elapsed:,.0f} "
                  f"reviews/s (classify + offline draft + guardrails), "
                  f"peak RSS {draft_peak:.0f} MB")
            print(f"        CPU {cpu / count * 1e6:.0f} µs/review = {cpu / floor:.0f}x the JSON "
                  f"parse+dump floor ({floor / count * 1e6:.1f} µs/review, same run)")
        elapsed, import_peak, summary, raw, start = bench_import(path)
        print(f"import  {count} reviews in {elapsed:.2f} s = {count / elapsed:,.0f} reviews/s "
              f"(makeright import into SQLite, process start included: {summary}), "
              f"peak RSS {import_peak:.0f} MB")
        print(f"import  {elapsed / raw:.1f}x the raw executemany floor ({raw:.2f} s: sqlite3 "
              f"executemany of the same rows into a freshly migrated copy, same run); "
              f"{(elapsed - start) / raw:.1f}x without the {start:.2f} s start (an empty file)")


if __name__ == "__main__":
    main()
