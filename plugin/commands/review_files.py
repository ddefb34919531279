"""`makeright draft`, `eval` and `import`: reviews read from JSON Lines files.

The drafting engines, the store and intake are imported inside the commands, so listing the
commands costs none of them.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import click

from .console import COMMIT_EVERY, open_database, open_policy, policy_option, progress, settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from connectors.base import Review

    from ..drafting import Drafter
    from ..jsonl import Rejected
    from ..store.db import Database


def _report_rejected(rejected: Rejected) -> None:
    click.echo(str(rejected), err=True)


def make_drafter(engine: str) -> tuple[Drafter, Database | None]:
    """The engine to draft with; the LLM engine needs the database for its budget and examples."""
    from ..drafting import get_drafter

    if engine != "llm":
        return get_drafter(engine), None
    from ..drafting.llm import LLMDrafter
    from ..drafting.production import production_drafter

    llm = settings().llm
    if not llm.configured:
        return LLMDrafter(llm), None
    database = open_database()
    return production_drafter(database, llm), database


engine_option = click.option("--engine", default="offline", show_default=True,
                             type=click.Choice(["offline", "llm"]),
                             help="Drafting engine: offline, or llm when configured (without "
                                  "MAKERIGHT_LLM_MODEL it says so and drafts offline).")
concurrency_option = click.option("--concurrency", type=click.IntRange(1, 256), default=None,
                                  help="Drafts in flight at once (default: "
                                       "MAKERIGHT_LLM_CONCURRENCY for llm, 1 offline).")


def _valid_reviews(stream: IO[bytes], counts: Counter[str]) -> Iterator:
    from ..jsonl import Rejected, read_reviews

    for _, item in read_reviews(stream):
        if isinstance(item, Rejected):
            counts["rejected"] += 1
            _report_rejected(item)
            continue
        yield item


@click.command()
@click.argument("file", type=click.File("rb"))
@engine_option
@policy_option
@concurrency_option
def draft(file: IO[bytes], engine: str, policy_path: str | None,
          concurrency: int | None) -> None:
    """Draft replies for the reviews in FILE (JSON Lines; - for stdin); stores no reviews.

    Writes one JSON object per valid line to stdout, in input order; a review the engine could
    not draft gets {"error": {"reason", "detail"}} instead. Bad lines are reported on stderr as
    `line N: field: problem`; the exit status is 1 if any line was rejected or failed.
    """
    from ..drafting.batch import draft_stream

    policy = open_policy(policy_path)
    drafter, database = make_drafter(engine)
    counts: Counter[str] = Counter()
    reviews = _valid_reviews(file, counts)
    with progress(draft_stream(reviews, policy, drafter, concurrency), "Drafting") as results:
        for item in results:
            payload: dict[str, Any] = {"external_id": item.review.external_id,
                                       "platform": item.review.platform}
            if item.failure is not None:
                counts["failed"] += 1
                payload["error"] = item.failure.to_json()
            elif item.draft is not None:
                payload.update(item.draft.to_json())
            click.echo(json.dumps(payload, ensure_ascii=False))
    if database is not None:
        database.dispose()
    sys.exit(1 if counts["rejected"] or counts["failed"] else 0)


@click.command("eval")
@click.argument("file", type=click.File("rb"))
@engine_option
@policy_option
@concurrency_option
def eval_(file: IO[bytes], engine: str, policy_path: str | None,
          concurrency: int | None) -> None:
    """Draft a corpus (JSON Lines) and print what a person would have to fix: violations by
    code, escalations, offers, language matches, length, near-duplicates and tokens."""
    from ..evaluation import evaluate, render

    policy = open_policy(policy_path)
    drafter, database = make_drafter(engine)
    counts: Counter[str] = Counter()
    result = evaluate(_valid_reviews(file, counts), policy, drafter, concurrency)
    render(result)
    if database is not None:
        database.dispose()
    if counts["rejected"]:
        click.echo(f"{counts['rejected']} lines rejected", err=True)


@click.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--draft/--no-draft", "do_draft", default=False,
              help="Also draft new and edited reviews with the offline engine.")
@policy_option
def import_(file: IO[bytes], do_draft: bool, policy_path: str | None) -> None:
    """Validate and store the reviews in FILE (JSON Lines; - for stdin).

    Known reviews are not duplicated; edited ones are recorded as edits. Bad lines are reported
    on stderr; the exit status is 1 if any line was rejected.
    """
    from .. import intake
    from ..drafting import draft_review
    from ..jsonl import Rejected, read_reviews
    from ..sources.brands import intake_sources
    from ..store.reviews import save_draft, to_review

    policy = open_policy(policy_path)
    door = intake.Door("import")
    counts: Counter[str] = Counter()
    database = open_database()
    batch: list[Review] = []

    def flush(session: Session) -> None:
        # One query a batch, before it writes anything.
        sources = intake_sources(session, (review.source for review in batch), policy)
        for stored in intake.take_in(session, batch, policy, door, sources=sources):
            counts[stored.outcome] += 1
            if do_draft and stored.outcome != "unchanged" and stored.row.status == "new":
                own = sources.policies.get(stored.row.source or "", policy)
                save_draft(session, stored.row, draft_review(to_review(stored.row), own))
                counts["drafted"] += 1
        session.commit()
        batch.clear()

    with database.session() as session, progress(read_reviews(file), "Importing") as lines:
        for _, item in lines:
            if isinstance(item, Rejected):
                counts["rejected"] += 1
                _report_rejected(item)
                continue
            batch.append(item)
            if len(batch) >= COMMIT_EVERY:
                flush(session)
        flush(session)
    database.dispose()
    summary = ", ".join(f"{counts[k]} {k}" for k in ("new", "updated", "unchanged", "rejected"))
    if do_draft:
        summary += f", {counts['drafted']} drafted"
    click.echo(summary)
    sys.exit(1 if counts["rejected"] else 0)
