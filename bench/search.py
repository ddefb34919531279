"""Queue search latency at 100,000 reviews (and their drafts), on SQLite and PostgreSQL.

Seeds as bench/queue_latency.py does, but from a vocabulary of 3,000 words (so a word is in
about 1% of reviews, as a searched word like "refund" or "cold" is in real ones) plus the
handful that every draft shares ("customer", "sorry"). The search index fills itself (triggers
on SQLite, GIN indexes on PostgreSQL). Times whole queue pages with a search through the Flask
test client: the counts per status, the page of rows and the rendering included. Each kind of
search is reported apart, p95 per engine:

    one word        a word in about 1% of reviews
    two words       two such words (few reviews hold both)
    phrase          three words in a row, copied from a stored review
    word + filters  a word with a rating, platform or status filter, or another sort
    rare word       a prefix or number found in a handful of reviews, or in none
    common word     a word in every draft ("sorry", "customer", "dear")
    no search       the same pages without a search: what rendering and the counts cost anyway

    python bench/search.py [--reviews 100000] [--requests 200] [--engine sqlite|postgresql|both]
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import queue_latency  # noqa: E402
from queue_latency import report, seeded_client, timed  # noqa: E402

from plugin.context import get_db  # noqa: E402
from plugin.store.models import ReviewRow  # noqa: E402


def vocabulary(size: int = 3000) -> tuple[str, ...]:
    rng = random.Random(3)
    syllables = ("ka", "lo", "me", "tri", "sa", "no", "vel", "dor", "pi", "ran", "qu", "es",
                 "mu", "ber", "ti", "ga", "zo", "lin", "fe", "ro")
    found: set[str] = set()
    while len(found) < size:
        found.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return tuple(sorted(found))


WORDS = vocabulary()
KINDS: dict[str, tuple[str, ...]] = {
    "one word": ("/queue?q={w}", "/queue?status=all&q={w}"),
    "two words": ("/queue?q={w}+{v}", "/queue?status=all&q={w}+{v}"),
    "phrase": ("/queue?q={phrase}", "/queue?status=all&q={phrase}"),
    "word+filters": ("/queue?q={w}&rating=1", "/queue?q={w}&sort=newest",
                     "/queue?q={w}&platform=google_play&rating=2", "/queue?overdue=yes&q={w}",
                     "/queue?status=posted&q={w}&sort=rating"),
    "rare word": ("/queue?q={n}", "/queue?q=nothinglikethis", "/queue?q=customer+{n}",
                  "/queue?status=all&q={n}"),
    "common word": ("/queue?q=sorry", "/queue?status=all&q=customer", "/queue?q=dear&sort=newest",
                    "/queue?q=sorry&rating=1", "/queue?q=customer&page=3"),
    "no search": ("/queue", "/queue?status=all", "/queue?rating=1", "/queue?sort=newest",
                  "/queue?page=3"),
}


def phrases(app, count: int, rng: random.Random) -> list[str]:
    """Three words in a row from stored reviews, as someone pastes a remembered sentence."""
    with app.app_context(), get_db().session() as session:
        texts = session.scalars(select(ReviewRow.text).where(
            ReviewRow.id.in_([rng.randint(1, count) for _ in range(50)]))).all()
    found = []
    for text in texts:
        words = text.rstrip(".").lower().split()
        start = rng.randint(0, len(words) - 3)
        found.append("+".join(words[start:start + 3]))
    return found


def urls_of(kind: str, requests: int, count: int, phrase_list: list[str],
            rng: random.Random) -> list[str]:
    return [rng.choice(KINDS[kind]).format(w=rng.choice(WORDS), v=rng.choice(WORDS),
                                           phrase=rng.choice(phrase_list),
                                           n=rng.randint(1, count))
            for _ in range(requests)]


def run(engine_name: str, url: str, count: int, requests: int) -> None:
    app, client = seeded_client(engine_name, url, count, "reviews and drafts, indexed,")
    rng = random.Random(5)
    phrase_list = phrases(app, count, rng)
    per_kind = max(20, requests // len(KINDS))
    timed(client, urls_of("one word", 20, count, phrase_list, rng))  # warm caches
    everything = []
    for kind in KINDS:
        spent = timed(client, urls_of(kind, per_kind, count, phrase_list, rng))
        if kind != "no search":
            everything += spent
        report(engine_name, kind, spent)
    report(engine_name, "all searches", everything)
    with app.app_context():
        get_db().dispose()


def main() -> None:
    queue_latency.WORDS = WORDS
    queue_latency.SCHEMA = "bench_search"  # apart from the queue bench, which may run too
    queue_latency.run_on_engines(run, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
