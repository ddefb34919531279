"""The `makeright` command line."""
from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TypeVar

import click

from . import __version__
from .classify import classifier_for
from .drafting import draft_review, get_drafter
from .jsonl import Rejected, read_reviews
from .policy import PolicyError, check_policy, load_policy, policy_dir
from .store import migrate
from .store.db import Database, is_sqlite
from .store.reviews import ingest_many, save_draft, to_review

T = TypeVar("T")
COMMIT_EVERY = 500

policy_option = click.option("--policy", "policy_path", type=click.Path(file_okay=False),
                             default=None, help="Policy folder (default: the bundled prompts/).")


@click.group()
@click.version_option(__version__, prog_name="makeright")
def cli() -> None:
    """MakeRight: sincere, policy-bound replies to customer reviews, approved by a person."""


def main() -> None:
    cli(prog_name="makeright")


def open_policy(path: str | None):
    try:
        return load_policy(path)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"the policy in {policy_dir(path)} has problems; "
                                   "run `makeright policy check`") from None


def open_database(url: str | None = None) -> Database:
    """The configured database, migrated to the current schema.

    The embedded SQLite database upgrades itself so a first run just works; a shared server is
    upgraded only on purpose (`makeright db upgrade`), never by whichever process starts first.
    """
    database = Database(url)
    if is_sqlite(database.engine):
        migrate.upgrade(database.engine)
    elif not migrate.is_current(database.engine):
        raise click.ClickException("the database schema is out of date; run `makeright db "
                                   "upgrade`")
    return database


@contextmanager
def progress(items: Iterable[T], label: str) -> Iterator[Iterable[T]]:
    """A rich progress bar on a terminal; plain iteration when output is piped or logged."""
    if not sys.stderr.isatty():
        yield items
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"),
               TextColumn("{task.completed} reviews"), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label)

        def advance() -> Iterator[T]:
            for item in items:
                yield item
                bar.advance(task)

        yield advance()


def _report_rejected(rejected: Rejected) -> None:
    click.echo(str(rejected), err=True)


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--engine", default="offline", show_default=True,
              help="Drafting engine: offline, or llm when configured.")
@policy_option
def draft(file: IO[str], engine: str, policy_path: str | None) -> None:
    """Draft replies for the reviews in FILE (JSON Lines; - for stdin); stores nothing.

    Writes one JSON object per valid line to stdout. Bad lines are reported on stderr as
    `line N: field: problem`; the exit status is 1 if any line was rejected.
    """
    policy = open_policy(policy_path)
    drafter = get_drafter(engine)
    rejected = 0
    with progress(read_reviews(file), "Drafting") as lines:
        for _, item in lines:
            if isinstance(item, Rejected):
                rejected += 1
                _report_rejected(item)
                continue
            result = draft_review(item, policy, drafter)
            payload = {"external_id": item.external_id, "platform": item.platform,
                       **result.to_json()}
            click.echo(json.dumps(payload, ensure_ascii=False))
    sys.exit(1 if rejected else 0)


@cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--draft/--no-draft", "do_draft", default=False,
              help="Also draft new and edited reviews with the offline engine.")
@policy_option
def import_(file: IO[str], do_draft: bool, policy_path: str | None) -> None:
    """Validate and store the reviews in FILE (JSON Lines; - for stdin).

    Known reviews are not duplicated; edited ones are recorded as edits. Bad lines are reported
    on stderr; the exit status is 1 if any line was rejected.
    """
    policy = open_policy(policy_path)
    classifier = classifier_for(policy)
    counts: Counter[str] = Counter()
    database = open_database()
    batch: list = []

    def flush(session) -> None:
        for stored in ingest_many(session, [(r, classifier.classify(r)) for r in batch]):
            counts[stored.outcome] += 1
            if do_draft and stored.outcome != "unchanged" and stored.row.status == "new":
                save_draft(session, stored.row, draft_review(to_review(stored.row), policy))
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


@cli.group()
def policy() -> None:
    """Inspect the company policy."""


@policy.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def policy_check(directory: str | None) -> None:
    """Validate a policy folder (default: the bundled prompts/); print file:key: problem."""
    problems = check_policy(directory)
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(1)
    loaded = load_policy(directory)
    click.echo(f"{policy_dir(directory)}: OK — {len(loaded.offers)} offers, "
               f"{len(loaded.templates)} template languages "
               f"({', '.join(sorted(loaded.templates))}), "
               f"{len(loaded.categories)} categories, "
               f"{len(loaded.escalation_triggers)} escalation reasons")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations (SQLite or PostgreSQL, from MAKERIGHT_DATABASE_URL)."""
    database = Database()
    migrate.upgrade(database.engine, revision)
    click.echo(f"database at revision {migrate.current(database.engine)}")
    database.dispose()


from .pipeline.commands import pause, resume, worker  # noqa: E402  (needs the helpers above)

cli.add_command(worker)
cli.add_command(pause)
cli.add_command(resume)

if __name__ == "__main__":
    main()
