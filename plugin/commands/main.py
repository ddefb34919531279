"""The `makeright` command line."""
from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from .. import __version__
from ..bundled import KINDS
from ..classify import classifier_for
from ..drafting import Drafter, draft_review, get_drafter
from ..drafting.batch import draft_stream
from ..jsonl import Rejected, read_reviews
from ..policy import PolicyError, check_policy, load_policy, policy_dir
from ..runtime import install_events
from ..starters import StarterError, write_starter
from ..store import migrate
from ..store.db import Database
from ..store.reviews import ingest_many, save_draft, to_review
from . import insights, integrations, sources, web
from . import worker as pipeline
from .console import COMMIT_EVERY, open_database, open_policy, policy_option, progress
from .play_import import import_play_reviews


@click.group()
@click.version_option(__version__, prog_name="makeright")
def cli() -> None:
    """MakeRight: sincere, policy-bound replies to customer reviews, approved by a person."""
    install_events()


def main() -> None:
    cli(prog_name="makeright")


def _report_rejected(rejected: Rejected) -> None:
    click.echo(str(rejected), err=True)


def make_drafter(engine: str) -> tuple[Drafter, Database | None]:
    """The engine to draft with; the LLM engine needs the database for its budget and examples."""
    if engine != "llm":
        return get_drafter(engine), None
    from ..drafting.llm import LLMDrafter
    from ..drafting.llm_settings import LLMSettings
    from ..drafting.production import production_drafter

    try:
        settings = LLMSettings.from_env()
    except ValueError as exc:
        raise click.ClickException(f"LLM settings: {exc}") from None
    if not settings.configured:
        return LLMDrafter(settings), None
    database = open_database()
    return production_drafter(database, settings), database


engine_option = click.option("--engine", default="offline", show_default=True,
                             type=click.Choice(["offline", "llm"]),
                             help="Drafting engine: offline, or llm when configured (without "
                                  "MAKERIGHT_LLM_MODEL it says so and drafts offline).")
concurrency_option = click.option("--concurrency", type=click.IntRange(1, 256), default=None,
                                  help="Drafts in flight at once (default: "
                                       "MAKERIGHT_LLM_CONCURRENCY for llm, 1 offline).")


def _valid_reviews(stream: IO[bytes], counts: Counter[str]) -> Iterator:
    for _, item in read_reviews(stream):
        if isinstance(item, Rejected):
            counts["rejected"] += 1
            _report_rejected(item)
            continue
        yield item


@cli.command()
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
            else:
                assert item.draft is not None  # a result holds a draft or a failure
                payload.update(item.draft.to_json())
            click.echo(json.dumps(payload, ensure_ascii=False))
    if database is not None:
        database.dispose()
    sys.exit(1 if counts["rejected"] or counts["failed"] else 0)


@cli.command("eval")
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


@cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--draft/--no-draft", "do_draft", default=False,
              help="Also draft new and edited reviews with the offline engine.")
@policy_option
def import_(file: IO[bytes], do_draft: bool, policy_path: str | None) -> None:
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
    """Validate a policy folder; print file:key: problem for each problem.

    Without DIRECTORY: the install's policy and every policy a source follows.
    """
    failed = not _check_one(directory, None, "")
    if directory is None:
        for folder, location, names in _policies_in_use():
            failed |= not _check_one(folder or None, location,
                                     f" (sources {', '.join(names)})")
    if failed:
        sys.exit(1)


def _check_one(directory: str | None, location: str | None, used_by: str) -> bool:
    problems = check_policy(directory)
    prefix = f"{policy_dir(directory)}: " if used_by else ""
    if not problems:
        try:
            load_policy(directory).at(location)
        except PolicyError as exc:
            problems = exc.problems
    for problem in problems:
        click.echo(f"{prefix}{problem}")
    if problems:
        return False
    loaded = load_policy(directory).at(location)
    click.echo(f"{policy_dir(directory)}: OK — {loaded.label}{used_by}: {len(loaded.offers)} "
               f"offers, {len(loaded.templates)} languages "
               f"({', '.join(loaded.languages)}), "
               f"{len(loaded.categories)} categories, "
               f"{len(loaded.escalation_triggers)} escalation reasons")
    return True


def _policies_in_use() -> list[tuple[str, str | None, list[str]]]:
    """Policies the sources follow, when this install has a database (checking never
    creates one)."""
    import os

    from ..sources.brands import policies_in_use
    from ..store.db import ENV_URL, instance_path

    if not (os.environ.get(ENV_URL) or (instance_path() / "makeright.sqlite").exists()):
        return []
    database = open_database()
    try:
        with database.session() as session:
            return policies_in_use(session)
    finally:
        database.dispose()


kind_option = click.option("--kind", type=click.Choice(KINDS), default=None,
                           help="Start from the policy for this kind of business (default: "
                                "the bundled café example).")


@policy.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@kind_option
def policy_init(directory: str, kind: str | None) -> None:
    """Write a starting policy folder to DIRECTORY (which must not exist or be empty)."""
    try:
        target = write_starter(Path(directory), kind)
    except StarterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote the {kind or 'café example'} policy to {target}; edit it, then run "
               f"`makeright policy check {target}`")


@cli.command("init")
@kind_option
def init(kind: str | None) -> None:
    """Prepare the instance folder (./instance or MAKERIGHT_INSTANCE): its database and an
    editable copy of the policy in instance/policy, which every command then uses."""
    from ..store.db import ensure_instance

    instance = ensure_instance()
    target = instance / "policy"
    if (target / "policy.toml").is_file():
        click.echo(f"{target} already holds a policy; left as it is")
    else:
        try:
            write_starter(target, kind)
        except StarterError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"policy copied to {target}; edit it and run `makeright policy check`")
    database = open_database()
    database.dispose()
    click.echo(f"instance ready in {instance}")


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


for command in (insights.report, insights.export_, insights.backup, insights.restore,
                insights.digest, integrations.token, integrations.webhook, integrations.manifest,
                sources.source, sources.sync, sources.secrets, pipeline.worker, pipeline.pause,
                pipeline.resume, web.serve, web.demo, web.user, import_play_reviews):
    cli.add_command(command)


if __name__ == "__main__":
    main()
