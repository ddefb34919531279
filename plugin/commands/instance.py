"""`makeright init`, `settings`, `policy ...` and `db ...`: the instance, its settings, its
policy and its database schema."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..bundled import KINDS
from .console import open_database, settings


@click.group()
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
    from ..policy import PolicyError, check_policy, load_policy, policy_dir

    paths = settings().paths
    problems = check_policy(directory, paths)
    prefix = f"{policy_dir(directory, paths)}: " if used_by else ""
    if not problems:
        try:
            load_policy(directory, paths).at(location)
        except PolicyError as exc:
            problems = exc.problems
    for problem in problems:
        click.echo(f"{prefix}{problem}")
    if problems:
        return False
    loaded = load_policy(directory, paths).at(location)
    click.echo(f"{policy_dir(directory, paths)}: OK — {loaded.label}{used_by}: "
               f"{len(loaded.offers)} offers, {len(loaded.templates)} languages "
               f"({', '.join(loaded.languages)}), "
               f"{len(loaded.categories)} categories, "
               f"{len(loaded.escalation_triggers)} escalation reasons")
    return True


def _policies_in_use() -> list[tuple[str, str | None, list[str]]]:
    """Policies the sources follow, when this install has a database (checking never
    creates one)."""
    from ..sources.brands import policies_in_use

    configured = settings()
    if not (configured.database.url
            or (configured.paths.instance / "makeright.sqlite").exists()):
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
    from ..starters import write_starter

    target = write_starter(Path(directory), kind)
    click.echo(f"wrote the {kind or 'café example'} policy to {target}; edit it, then run "
               f"`makeright policy check {target}`")


@click.command("init")
@kind_option
def init(kind: str | None) -> None:
    """Prepare the instance folder (./instance or MAKERIGHT_INSTANCE): its database and an
    editable copy of the policy in instance/policy, which every command then uses."""
    from ..starters import write_starter
    from ..store.db import ensure_instance

    instance = ensure_instance(settings().paths.instance)
    target = instance / "policy"
    if (target / "policy.toml").is_file():
        click.echo(f"{target} already holds a policy; left as it is")
    else:
        write_starter(target, kind)
        click.echo(f"policy copied to {target}; edit it and run `makeright policy check`")
    database = open_database()
    database.dispose()
    click.echo(f"instance ready in {instance}")


@click.command("settings")
def settings_show() -> None:
    """Print the effective settings, one `VARIABLE=value` a line; secrets only say whether
    they are set."""
    for name, value in settings().shown():
        click.echo(f"{name}={value}")


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations (SQLite or PostgreSQL, from MAKERIGHT_DATABASE_URL)."""
    from ..store import migrate
    from ..store.db import Database, settings_url

    database = Database(settings_url(settings()))
    migrate.upgrade(database.engine, revision)
    click.echo(f"database at revision {migrate.current(database.engine)}")
    database.dispose()
