"""Offline drafting and import throughput on 20,000 generated reviews.

Prints reviews/second for classify + draft + check (in this process) and for
`makeright import` into a fresh SQLite database (a child process), with peak memory of each.
Targets: drafting >= 2,000/s, import >= 1,000/s, peak memory < 300 MB, on one core.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
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


def bench_import(path: Path) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "MAKERIGHT_INSTANCE": instance}
        env.pop("MAKERIGHT_DATABASE_URL", None)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "plugin.commands.main", "import", str(path)],
                              env=env, capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, peak, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reviews.jsonl"
        generate(args.count, path)
        count, elapsed, cpu = bench_drafting(path)
        floor = bench_json_floor(path)
        draft_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"draft   {count} reviews in {elapsed:.2f} s = {count / elapsed:,.0f} reviews/s "
              f"(classify + offline draft + guardrails), peak RSS {draft_peak:.0f} MB")
        print(f"        CPU {cpu / count * 1e6:.0f} µs/review = {cpu / floor:.0f}x the JSON "
              f"parse+dump floor ({floor / count * 1e6:.1f} µs/review, same run)")
        elapsed, import_peak, summary = bench_import(path)
        print(f"import  {count} reviews in {elapsed:.2f} s = {count / elapsed:,.0f} reviews/s "
              f"(makeright import into SQLite, process start included: {summary}), "
              f"peak RSS {import_peak:.0f} MB")


if __name__ == "__main__":
    main()
