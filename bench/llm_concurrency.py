"""LLM batch drafting throughput: 500 reviews against a loopback model answering in 250 ms.

Prints the wall time, its ratio to the ideal (reviews x delay / concurrency; target <= 1.15)
and prompt tokens per draft (target < 1,500 with three house-voice examples in every prompt).
Tokens are the loopback server's estimate, request characters / 4 (no tokenizer is installed
offline), counted over the messages and the response_format schema.

    .venv/bin/python bench/llm_concurrency.py [--reviews 500] [--delay 0.25] [--concurrency 16]
        [--policy DIR]
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.base import Review  # noqa: E402
from plugin.classify import classifier_for  # noqa: E402
from plugin.drafting.batch import draft_many  # noqa: E402
from plugin.drafting.budget import MemoryLedger  # noqa: E402
from plugin.drafting.examples import Example, StaticExamples  # noqa: E402
from plugin.drafting.llm import LLMDrafter  # noqa: E402
from plugin.drafting.llm_settings import LLMSettings  # noqa: E402
from plugin.policy import load_policy  # noqa: E402

TEXTS = [
    ("The delivery was over an hour late and the cake was squashed.", 1),
    ("Staff were rude and we waited 40 minutes for coffee.", 2),
    ("The app crashes every time I try to log in.", 1),
    ("Charged twice for one order, still no answer from anyone.", 2),
    ("Tables were dirty and sticky, and the bread was stale.", 2),
    ("Lovely bakery, great bread and friendly people!", 5),
    ("El pedido llegó tarde y la tarta estaba aplastada.", 1),
    ("Die App stürzt beim Anmelden ständig ab.", 2),
]
APPROVED = [
    Example(1, "en", ("delivery", "damaged"), "Cake arrived an hour late and crushed.",
            "Hi Sam, I'm sorry your cake arrived late and crushed; that is not how it should "
            "reach you. We'd like to replace it at no cost: write to care@harbourlane.example "
            "and I'll arrange it. – Maya, Harbour Lane"),
    Example(2, "en", ("delivery",), "Delivery took forever.",
            "Hi Lee, sorry for the long wait on your delivery. Please write to "
            "care@harbourlane.example so we can refund the delivery fee. – Maya, Harbour Lane"),
    Example(1, "en", ("staff", "wait"), "Waited ages and the staff were short with us.",
            "Hi Ana, I'm sorry for the wait and for how you were spoken to. I've shared this "
            "with the team. Write to care@harbourlane.example and we'll make it right. – Maya"),
    Example(2, "en", ("crash", "login"), "App keeps crashing on login.",
            "Hi Jo, sorry the app keeps crashing when you log in. Our app team will follow up "
            "until it works: write to care@harbourlane.example. – Maya, Harbour Lane"),
    Example(1, "en", ("billing",), "Charged twice.",
            "Hi Kim, sorry about the double charge. Write to care@harbourlane.example and we'll "
            "check your bill and correct it. – Maya, Harbour Lane"),
]


def reviews(count: int) -> list[Review]:
    rng = random.Random(11)
    out = []
    for i in range(count):
        text, rating = rng.choice(TEXTS)
        out.append(Review.from_json({
            "platform": rng.choice(["google_business", "google_play", "app_store"]),
            "external_id": f"bench-{i}", "author": rng.choice(["Jane Doe", "Tom", ""]),
            "rating": rating, "text": f"{text} (visit {i % 37})",
            "created_at": "2026-11-01T10:00:00Z"}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reviews", type=int, default=500)
    parser.add_argument("--delay", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--policy", default=None, help="Policy folder (default: prompts/).")
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "tests.llm.fake_openai", "--delay",
                               str(args.delay)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        policy = load_policy(args.policy)
        batch = reviews(args.reviews)
        for review in batch[:len(TEXTS)]:
            classifier_for(policy).classify(review)
        settings = LLMSettings(model="bench-model", base_url=url, timeout=10,
                               concurrency=args.concurrency, daily_token_budget=0)
        drafter = LLMDrafter(settings, examples=StaticExamples(APPROVED), ledger=MemoryLedger())
        started = time.perf_counter()
        results = draft_many(batch, policy, drafter)
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    drafts = [r.draft for r in results if r.draft]
    failures = [r.failure for r in results if r.failure]
    redrafted = sum("Redrafted" in d.note for d in drafts)
    prompt = [d.prompt_tokens for d in drafts if d.engine == "llm"]
    with_examples = sum(1 for r in batch if StaticExamples(APPROVED)(
        r, classifier_for(policy).classify(r), 3))
    ideal = args.reviews * args.delay / args.concurrency
    print(f"reviews {args.reviews}, concurrency {args.concurrency}, model delay "
          f"{args.delay * 1000:.0f} ms, drafts {len(drafts)}, failures {len(failures)}, "
          f"redrafted {redrafted}")
    print(f"wall {wall:.2f} s, ideal {ideal:.2f} s, ratio {wall / ideal:.3f} (target <= 1.15)")
    print(f"prompt tokens per draft: mean {statistics.mean(prompt):.0f}, max {max(prompt)} "
          f"(target < 1,500; chars/4 estimate); completion mean "
          f"{statistics.mean(d.completion_tokens for d in drafts):.0f}; "
          f"{with_examples} of {args.reviews} prompts carried examples")


if __name__ == "__main__":
    main()
