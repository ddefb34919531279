"""Queue search latency at 100,000 reviews (and their drafts), on SQLite and PostgreSQL.

Seeds as bench/queue_latency.py does, but from a vocabulary of 3,000 words (so a word is in
about 1% of reviews, as a searched word like "refund" or "cold" is in real ones) plus the
handful that every review and draft shares ("customer", "sorry"). The search index fills itself
(triggers on SQLite, GIN indexes on PostgreSQL). Times whole queue pages with a search through
the Flask test client: the counts per status, the page of rows and the rendering included.
Searches for a word in every review are timed apart: they are the worst case.

    python bench/search.py [--reviews 100000] [--requests 200] [--engine sqlite|postgresql|both]
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import queue_latency  # noqa: E402
from queue_latency import report, seeded_client, timed  # noqa: E402

from plugin.context import get_db  # noqa: E402


def vocabulary(size: int = 3000) -> tuple[str, ...]:
    rng = random.Random(3)
    syllables = ("ka", "lo", "me", "tri", "sa", "no", "vel", "dor", "pi", "ran", "qu", "es",
                 "mu", "ber", "ti", "ga", "zo", "lin", "fe", "ro")
    found: set[str] = set()
    while len(found) < size:
        found.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return tuple(sorted(found))


WORDS = vocabulary()
SEARCHES = (
    "/queue?q={w}", "/queue?q={w}+{v}", "/queue?status=all&q={w}", "/queue?q={w}&rating=1",
    "/queue?q={w}&sort=newest", "/queue?overdue=yes&q={w}", "/queue?q={p}",
    "/queue?q=nothinglikethis", "/queue?q=customer+{n}",
)
EVERYWHERE = ("/queue?q=sorry", "/queue?status=all&q=customer", "/queue?q=dear&sort=newest")


def run(engine_name: str, url: str, count: int, requests: int) -> None:
    app, client = seeded_client(engine_name, url, count, "reviews and drafts, indexed,")
    rng = random.Random(5)
    urls = [rng.choice(SEARCHES).format(w=rng.choice(WORDS), v=rng.choice(WORDS),
                                        p=rng.choice(WORDS)[:4], n=rng.randint(1, count))
            for _ in range(requests)]
    timed(client, urls[:20])
    report(engine_name, "search", timed(client, urls))
    report(engine_name, "in every one", timed(client, list(EVERYWHERE) * 10))
    with app.app_context():
        get_db().dispose()


def main() -> None:
    queue_latency.WORDS = WORDS
    queue_latency.SCHEMA = "bench_search"  # apart from the queue bench, which may run too
    queue_latency.run_on_engines(run, __doc__.splitlines()[0])

if __name__ == "__main__":
    main()
