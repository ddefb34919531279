"""Evaluating an engine on a corpus: what a person would have to fix, counted.

The figures are the ones that matter before trusting an engine with a queue: how many drafts
break the policy and how, how many escalate, which offers it makes, whether it answers in the
customer's language, how long replies are, whether similar reviews get copies of one reply,
and what it costs in tokens.

Corpus lines that carry hand-written labels (`metadata.expect`, see tests/data/README.md) are
also scored for quality: language correct or honestly declared, escalation recall and
precision, the problem named, apologies to praise, sentences mixing languages.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from connectors.base import Review

from . import quality as quality_checks
from .drafting import Drafter
from .drafting.batch import draft_stream
from .drafts import Draft
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
    quality: Quality = field(default_factory=lambda: Quality())

    @property
    def mean_characters(self) -> float:
        return self.characters / self.drafts if self.drafts else 0.0

    @property
    def tokens_per_draft(self) -> float:
        spent = self.prompt_tokens + self.completion_tokens
        return spent / self.reviews if self.reviews else 0.0


@dataclass
class Quality:
    """Scores against the corpus labels; each list names the reviews that failed a check."""

    labelled: int = 0
    language_checked: int = 0
    language_right: int = 0
    language_declared: int = 0
    wrong_language: list[str] = field(default_factory=list)
    escalation_true: int = 0
    escalation_found: int = 0
    escalation_flagged: int = 0
    missed_escalations: list[str] = field(default_factory=list)
    false_escalations: list[str] = field(default_factory=list)
    problems_stated: int = 0
    problems_named: int = 0
    unnamed_problems: list[str] = field(default_factory=list)
    apologies_to_praise: list[str] = field(default_factory=list)
    mixed_language: list[str] = field(default_factory=list)

    @property
    def language_rate(self) -> float:
        done = self.language_right + self.language_declared
        return done / self.language_checked if self.language_checked else 1.0

    @property
    def escalation_recall(self) -> float:
        return self.escalation_found / self.escalation_true if self.escalation_true else 1.0

    @property
    def escalation_precision(self) -> float:
        return self.escalation_found / self.escalation_flagged if self.escalation_flagged else 1.0

    @property
    def problem_rate(self) -> float:
        return self.problems_named / self.problems_stated if self.problems_stated else 1.0


def _score(quality: Quality, review: Review, draft: Draft, policy: Policy) -> None:
    key = f"{review.platform}:{review.external_id}"
    ignore = " ".join((review.author, policy.voice_for(review.platform).brand,
                       policy.voice_for(review.platform).sign_off,
                       *(str(v) for v in policy.contact.values())))
    if quality_checks.foreign_words(policy, draft.text, draft.language, ignore):
        quality.mixed_language.append(key)
    expect = review.metadata.get("expect")
    if not isinstance(expect, dict):
        return
    quality.labelled += 1
    wanted = expect.get("language")
    if wanted:
        accepted = set(wanted) if isinstance(wanted, list) else {wanted}
        quality.language_checked += 1
        if draft.language in accepted:
            quality.language_right += 1
        elif draft.note and (draft.review_language in accepted
                             or draft.note.startswith("Language unclear")):
            quality.language_declared += 1
        else:
            quality.wrong_language.append(f"{key} ({draft.review_language}→{draft.language})")
    escalate = bool(expect.get("escalate"))
    quality.escalation_true += escalate
    quality.escalation_flagged += draft.escalate
    quality.escalation_found += escalate and draft.escalate
    if escalate and not draft.escalate:
        quality.missed_escalations.append(key)
    if draft.escalate and not escalate:
        quality.false_escalations.append(f"{key} ({', '.join(draft.escalation_reasons)})")
    stated = expect.get("categories") or []
    if stated and review.rating <= 3 and not escalate:
        quality.problems_stated += 1
        if quality_checks.names_problem(policy, draft.text, draft.language, stated):
            quality.problems_named += 1
        else:
            quality.unnamed_problems.append(f"{key} ({', '.join(stated)} → "
                                            f"{', '.join(draft.categories) or '-'})")
    if expect.get("praise_only") and quality_checks.apologises(policy, draft.text,
                                                                draft.language):
        quality.apologies_to_praise.append(key)


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
        _score(result.quality, item.review, draft, policy)
    result.near_duplicates = [(texts[i][0], texts[j][0], score) for i, j, score in
                              near_duplicates([t for _, t in texts], DUPLICATE_THRESHOLD)]
    return result


def duplicate_share(result: Evaluation) -> float:
    """Share of drafts that have a near-copy among the other drafts."""
    involved = {key for a, b, _ in result.near_duplicates for key in (a, b)}
    return len(involved) / result.drafts if result.drafts else 0.0


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
    if result.quality.labelled:
        _render_quality(result, console)
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


def _rate(value: float) -> str:
    return f"{100 * value:.1f}%"


def _render_quality(result: Evaluation, console: Console) -> None:
    q = result.quality
    table = Table(title=f"Quality against the labels ({q.labelled} labelled reviews)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("of", justify="right")
    rows = [
        ("language correct or honestly declared", _rate(q.language_rate),
         f"{q.language_right} + {q.language_declared} declared / {q.language_checked}"),
        ("escalation recall", _rate(q.escalation_recall),
         f"{q.escalation_found} / {q.escalation_true}"),
        ("escalation precision", _rate(q.escalation_precision),
         f"{q.escalation_found} / {q.escalation_flagged}"),
        ("problem named (1-3 stars stating one)", _rate(q.problem_rate),
         f"{q.problems_named} / {q.problems_stated}"),
        ("apologies to praise-only text", str(len(q.apologies_to_praise)), ""),
        ("replies mixing languages", str(len(q.mixed_language)), str(result.drafts)),
        ("drafts with guardrail violations", str(result.with_violations), str(result.drafts)),
        ("drafts with a near-duplicate", _rate(duplicate_share(result)),
         f"{len(result.near_duplicates)} pairs"),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for title, keys in (("Wrong language", q.wrong_language),
                        ("Missed escalations", q.missed_escalations),
                        ("False escalations", q.false_escalations),
                        ("Problem not named", q.unnamed_problems),
                        ("Apologies to praise", q.apologies_to_praise),
                        ("Mixed-language replies", q.mixed_language)):
        if keys:
            console.print(f"[bold]{title}[/bold] ({len(keys)}): " + "; ".join(keys[:15])
                          + (" …" if len(keys) > 15 else ""))
