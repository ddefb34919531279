"""Evaluating an engine on a corpus: what a person would have to fix, counted.

The figures are the ones that matter before trusting an engine with a queue: how many drafts
break the policy and how, how many escalate, which offers it makes, whether it answers in the
customer's language, how long replies are, whether similar reviews get copies of one reply,
and what it costs in tokens.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from connectors.base import Review

from .drafting import Drafter
from .drafting.batch import draft_stream
from .policy import Policy
from .similarity import near_duplicates

DUPLICATE_THRESHOLD = 0.9


@dataclass
class Evaluation:
    engine: str
    reviews: int = 0
    drafts: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    with_violations: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    escalations: int = 0
    offers: Counter[str] = field(default_factory=Counter)
    language_checked: int = 0
    language_matches: int = 0
    characters: int = 0
    near_duplicates: list[tuple[str, str, float]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    engines: Counter[str] = field(default_factory=Counter)

    @property
    def mean_characters(self) -> float:
        return self.characters / self.drafts if self.drafts else 0.0

    @property
    def tokens_per_draft(self) -> float:
        spent = self.prompt_tokens + self.completion_tokens
        return spent / self.reviews if self.reviews else 0.0


def evaluate(reviews: Iterable[Review], policy: Policy, drafter: Drafter,
             concurrency: int | None = None) -> Evaluation:
    result = Evaluation(engine=drafter.name)
    texts: list[tuple[str, str]] = []
    for item in draft_stream(reviews, policy, drafter, concurrency):
        result.reviews += 1
        if item.failure is not None:
            result.failures[item.failure.reason] += 1
            result.prompt_tokens += item.failure.prompt_tokens
            result.completion_tokens += item.failure.completion_tokens
            continue
        draft = item.draft
        assert draft is not None
        result.drafts += 1
        result.engines[draft.engine] += 1
        result.with_violations += bool(draft.violations)
        result.violations.update(v.code for v in draft.violations)
        result.escalations += draft.escalate
        result.offers[draft.offer.id if draft.offer else "(none)"] += 1
        if draft.review_language:
            result.language_checked += 1
            result.language_matches += draft.language == draft.review_language
        result.characters += len(draft.text)
        result.prompt_tokens += draft.prompt_tokens
        result.completion_tokens += draft.completion_tokens
        texts.append((f"{item.review.platform}:{item.review.external_id}", draft.text))
    result.near_duplicates = [(texts[i][0], texts[j][0], score) for i, j, score in
                              near_duplicates([t for _, t in texts], DUPLICATE_THRESHOLD)]
    return result


def _percent(part: int, whole: int) -> str:
    return f"{part} ({100 * part / whole:.0f}%)" if whole else "0"


def render(result: Evaluation, console: Console | None = None) -> None:
    console = console or Console()
    summary = Table(title=f"Evaluation — engine {result.engine}", show_header=False)
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    rows = [
        ("reviews", str(result.reviews)),
        ("drafts", str(result.drafts)),
        ("draft failures", _percent(sum(result.failures.values()), result.reviews)),
        ("drafts with violations", _percent(result.with_violations, result.drafts)),
        ("escalations", _percent(result.escalations, result.drafts)),
        ("language matches review", _percent(result.language_matches, result.language_checked)),
        ("mean characters", f"{result.mean_characters:.0f}"),
        (f"near-duplicate pairs (≥ {DUPLICATE_THRESHOLD})", str(len(result.near_duplicates))),
        ("prompt tokens", str(result.prompt_tokens)),
        ("completion tokens", str(result.completion_tokens)),
        ("tokens per review", f"{result.tokens_per_draft:.0f}"),
    ]
    if len(result.engines) > 1 or (result.engines and result.engine not in result.engines):
        rows.append(("drafted by", ", ".join(f"{k} {v}" for k, v in result.engines.items())))
    for measure, value in rows:
        summary.add_row(measure, value)
    console.print(summary)
    for title, counts in (("Violations by code", result.violations),
                          ("Offers by id", result.offers),
                          ("Failures by reason", result.failures)):
        if not counts:
            continue
        table = Table(title=title)
        table.add_column("id")
        table.add_column("count", justify="right")
        for key, count in counts.most_common():
            table.add_row(key, str(count))
        console.print(table)
    if result.near_duplicates:
        table = Table(title="Near-duplicate replies (first 10)")
        for column in ("review", "review", "similarity"):
            table.add_column(column)
        for a, b, score in result.near_duplicates[:10]:
            table.add_row(a, b, f"{score:.2f}")
        console.print(table)
