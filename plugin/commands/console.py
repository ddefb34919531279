"""What every command shares: the settings, refusals as `Error: ...`, opening the policy and
the database, and progress bars."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..config import Settings, SettingsError
from ..errors import REFUSALS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..store.db import Database

T = TypeVar("T")
COMMIT_EVERY = 500

policy_option = click.option("--policy", "policy_path", type=click.Path(file_okay=False),
                             default=None, help="Policy folder (default: the bundled prompts/).")


class DeferredHelpOption(click.Option):
    """An option whose help is made by `help_text` when it is first shown, for help that names
    what a heavy module holds (the API's scopes, the outbound events): the module is imported
    for `makeright token create --help`, not each time the command is merely listed."""

    def __init__(self, *args: Any, help_text: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help_text = help_text

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        if self.help is None:
            self.help = self.help_text()
        return super().get_help_record(ctx)


@dataclass(frozen=True)
class Invocation:
    """What the command line was started with: its settings, read and checked once, and the
    environment itself, for `--secret-env`, which names a variable of the operator's choosing."""

    settings: Settings
    environ: Mapping[str, str]

    @classmethod
    def start(cls, environ: Mapping[str, str]) -> Invocation:
        """The settings of `environ`; a bad one stops the command with its name, not a
        traceback."""
        try:
            return cls(Settings.from_env(environ), environ)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None


def invocation() -> Invocation:
    """The running command's Invocation, made by the `makeright` group."""
    found = click.get_current_context().find_object(Invocation)
    if found is None:
        raise click.UsageError("run this command through `makeright`, which reads the settings")
    return found


def settings() -> Settings:
    return invocation().settings


def secret_box(create: bool = False):
    """The keys that seal stored credentials, from the command's settings."""
    from ..secrets import load_box

    configured = settings()
    return load_box(create=create, instance=configured.paths.instance,
                    settings=configured.secrets)


class RefusalsAsErrors(click.Group):
    """The command line's one answer to a refusal raised anywhere below a command: click's own
    `Error: <message>` on stderr and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except REFUSALS as exc:
            raise click.ClickException(str(exc)) from None


def open_policy(path: str | None):
    from ..policy import PolicyError, load_policy, policy_dir

    paths = settings().paths
    try:
        return load_policy(path, paths)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"the policy in {policy_dir(path, paths)} has problems; "
                                   "run `makeright policy check`") from None


def open_database(url: str | None = None) -> Database:
    """The configured database (`url`, else the settings'), migrated to the current schema.

    The embedded SQLite database upgrades itself so a first run just works; a shared server is
    upgraded only on purpose (`makeright db upgrade`), never by whichever process starts first.
    """
    from ..store.db import Database, settings_url

    database = Database(url or settings_url(settings()))
    ensure_schema(database)
    return database


@contextmanager
def database_session() -> Iterator[Session]:
    """One unit of work on the configured database, its connections closed however it ends."""
    database = open_database()
    try:
        with database.session() as session:
            yield session
    finally:
        database.dispose()


def ensure_schema(database: Database) -> None:
    from ..store import migrate
    from ..store.db import is_sqlite

    if is_sqlite(database.engine):
        migrate.upgrade(database.engine)
    elif not migrate.is_current(database.engine):
        raise click.ClickException("the database schema is out of date; run `makeright db "
                                   "upgrade`")


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
