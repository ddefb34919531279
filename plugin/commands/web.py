"""`makeright serve`, `makeright demo` and `makeright user`: running the queue and its people."""
from __future__ import annotations

from typing import IO

import click

from .console import ensure_schema, open_database, open_policy, settings


def _web_app(config: dict | None = None):
    """The web app for the command's settings. The settings, the worker's beside it included,
    were checked when the command started; a setting the app refuses is answered as a plain
    error by the command group."""
    from ..app import create_app

    return create_app(config, settings())


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the review queue (waitress; put TLS in front of it)."""
    from ..context import get_db
    from ..server import run

    app = _web_app()
    with app.app_context():
        ensure_schema(get_db())
    click.echo(f"MakeRight review queue on http://{host}:{port}/")
    run(app, host, port, threads)


@click.command()
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--serve/--no-serve", "do_serve", default=True,
              help="Serve the queue after loading the demo (default) or just load it.")
def demo(port: int, do_serve: bool) -> None:
    """Try MakeRight on this machine: sample reviews, offline drafts, a local queue.

    Everything lives in the instance folder (./instance or MAKERIGHT_INSTANCE): a SQLite
    database, the demo's replies file and its session key. Running it again adds nothing twice.
    """
    from ..demo import prepare_demo, secret_key_file
    from ..server import run
    from ..store.db import ensure_instance

    configured = settings()
    instance = ensure_instance(configured.paths.instance)
    url = f"sqlite:///{instance / 'makeright.sqlite'}"
    database = open_database(url)
    result = prepare_demo(database, open_policy(None), instance,
                          configured.accounts.demo_password)
    database.dispose()
    counts = result.counts
    click.echo(f"Demo instance in {instance}: {counts['new']} new reviews, "
               f"{counts['unchanged']} already there, {counts['drafted']} drafted.")
    if result.password and result.password_generated:
        click.echo(f"Sign in as admin with the password: {result.password}")
    elif result.password:
        click.echo("Sign in as admin with the password from MAKERIGHT_DEMO_PASSWORD.")
    else:
        click.echo("Sign in as admin with the password shown the first time (set "
                   "MAKERIGHT_DEMO_PASSWORD to choose a new one).")
    if not do_serve:
        return
    app = _web_app({"SECRET_KEY": secret_key_file(instance), "MODE": "demo",
                    "DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    click.echo(f"Review queue: http://127.0.0.1:{port}/  (Ctrl+C to stop)")
    run(app, "127.0.0.1", port)


@click.group()
def user() -> None:
    """People who use the review queue."""


password_option = click.option(
    "--password-file", type=click.File("r", encoding="utf-8"), default=None,
    help="Read the password from the first line of this file (- for stdin).")


def _read_password(password_file: IO[str] | None) -> str:
    """From --password-file, MAKERIGHT_USER_PASSWORD, or a prompt; never the command line,
    where other users of the machine could read it."""
    if password_file is not None:
        return password_file.readline().rstrip("\r\n")
    given = settings().accounts.user_password
    if given:
        return given
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "editor", "approver", "admin"]),
              default="editor", show_default=True)
@password_option
def user_add(name: str, role: str, password_file: IO[str] | None) -> None:
    """Add a person. The password comes from --password-file, MAKERIGHT_USER_PASSWORD, or a
    prompt; it never appears on the command line, where other users could read it."""
    from ..accounts import add_user

    password = _read_password(password_file)
    database = open_database()
    try:
        with database.session() as session:
            add_user(session, name, role, password)
    finally:
        database.dispose()
    click.echo(f"added {name} ({role})")


@user.command("password")
@click.argument("name")
@password_option
def user_password(name: str, password_file: IO[str] | None) -> None:
    """Set a person's password (a reset by the operator); their sessions all end."""
    from ..accounts import AccountError, find_user, set_password

    password = _read_password(password_file)
    database = open_database()
    try:
        with database.session() as session:
            row = find_user(session, name)
            if row is None:
                raise AccountError(f"There is no user named {name!r}.")
            set_password(row, password)
    finally:
        database.dispose()
    click.echo(f"password of {name} changed; their sessions have ended")
