"""`makeright report`, `export`, `backup`, `restore` and `digest`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .console import database_session, open_database, open_policy, policy_option, settings

since_option = click.option("--since", default="30d", show_default=True,
                            help="Start: a duration before --until (30d, 12h, 2w) or a date.")
until_option = click.option("--until", default=None, help="End (default: now): a date or time.")


def _period(since: str, until: str | None):
    from ..insights.cohort import make_period

    try:
        return make_period(since, until)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since/--until") from None


@click.command()
@since_option
@until_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@click.option("--brand", default=None,
              help="Only reviews whose draft followed this policy, named as the queue shows "
                   "it (\"Hotel Miramar\", \"Casa Lupita · Downtown\").")
@policy_option
def report(since: str, until: str | None, fmt: str, brand: str | None,
           policy_path: str | None) -> None:
    """The dashboard's figures for reviews written in a period."""
    from connectors.untrusted import printable

    from ..insights.figures import compute
    from ..insights.render import as_csv, as_table

    period = _period(since, until)
    policy = open_policy(policy_path)
    with database_session() as session:
        result = compute(session, policy, period, brand=brand)
    # printable: a value stored before the input rules must not stop the report half-way.
    if fmt == "json":
        click.echo(printable(json.dumps(result.to_json(), indent=2, ensure_ascii=False)))
    elif fmt == "csv":
        click.echo(printable(as_csv(result)), nl=False)
    else:
        click.echo(printable(as_table(result)))


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True)
@click.option("--since", default=None, help="Only reviews written since (30d or a date).")
@until_option
@click.option("--output", "-o", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="File to write (default: standard output).")
@policy_option
def export_(fmt: str, since: str | None, until: str | None, output,
            policy_path: str | None) -> None:
    """Reviews with their drafts, final replies, offers, timings and approvers."""
    from connectors.base import MIN_YEAR

    from ..insights import export as exports

    period = _period(since, until) if since else None
    if period is None and until:
        period = _period(f"{MIN_YEAR}-01-01", until)
    policy = open_policy(policy_path)
    with database_session() as session:
        count = exports.write(exports.rows(session, policy, period), fmt, output)
    click.echo(f"exported {count} reviews", err=True)


def _checked(snapshot) -> str:
    return "integrity ok; " + ", ".join(f"{n} {t}" for t, n in snapshot.counts.items())


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def backup(file: Path, force: bool) -> None:
    """Write a consistent copy of the SQLite database to FILE while the app keeps running."""
    from ..insights import backup as backups

    snapshot = backups.backup(file, force=force)
    click.echo(f"backed up to {snapshot.path} ({_checked(snapshot)}); signed in "
               f"{backups.signature_path(snapshot.path).name}")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the existing database.")
@click.option("--trust-unsigned", is_flag=True,
              help="Restore a backup whose signature is missing or does not match (only one "
                   "you made yourself and kept safe).")
def restore(file: Path, force: bool, trust_unsigned: bool) -> None:
    """Replace the SQLite database with the backup FILE. Stop the app and workers first.

    The backup must carry the signature `makeright backup` wrote beside it (FILE.sig), made
    with this installation's secret keys."""
    from ..insights import backup as backups

    snapshot = backups.restore(file, force=force, trust_unsigned=trust_unsigned)
    unchecked = "; signature NOT checked (--trust-unsigned)" if trust_unsigned else \
        "; signature ok"
    click.echo(f"restored {snapshot.path} from {file} ({_checked(snapshot)}{unchecked})")


@click.group(invoke_without_command=True)
@click.option("--send", is_flag=True, help="Email subscribers and emit the outbound event.")
@click.option("--now", "now_text", default=None, hidden=True,
              help="Make the digest as if it were this time (to resend a past day).")
@policy_option
@click.pass_context
def digest(ctx: click.Context, send: bool, now_text: str | None, policy_path: str | None) -> None:
    """Yesterday's figures and what is waiting; prints it, or sends it with --send."""
    from ..insights import digest as digests
    from ..insights import mail
    from ..insights.cohort import parse_moment

    if ctx.invoked_subcommand is not None:
        return
    now = parse_moment(now_text) if now_text else None
    policy = open_policy(policy_path)
    database = open_database()
    try:
        with database.session() as session:
            made = digests.make(session, policy, now)
            if not send:
                click.echo(made.text())
                return
            configured = settings().mail
            smtp = mail.SmtpSettings.from_settings(configured) if configured.smtp_url else None
            result = digests.send(session, made, smtp)
    finally:
        database.dispose()
    click.echo(f"digest for {made.day}: emailed {len(result.emailed)}, "
               f"{len(result.already_sent)} already had it; event {result.event}")


@digest.command("subscribe")
@click.argument("email")
@click.option("--user", default=None, help="The user this address belongs to.")
def digest_subscribe(email: str, user: str | None) -> None:
    """Send the daily digest to EMAIL."""
    from ..insights import digest as digests

    try:
        with database_session() as session:
            digests.subscribe(session, email, user)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None
    click.echo(f"{email} will get the daily digest")


@digest.command("unsubscribe")
@click.argument("email")
def digest_unsubscribe(email: str) -> None:
    """Stop sending the daily digest to EMAIL."""
    from ..insights import digest as digests

    with database_session() as session:
        changed = digests.unsubscribe(session, email)
    click.echo(f"{email} unsubscribed" if changed else f"{email} was not subscribed")
    if not changed:
        sys.exit(1)

