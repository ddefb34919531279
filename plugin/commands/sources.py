"""`makeright source ...`, `makeright sync` and `makeright secrets ...`.

Secret values enter only through files or environment variables (never `--set`, which would
leave them in shell history and the process list) and are never printed: `source list` shows
each secret field as ***.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from .console import (
    database_session,
    invocation,
    open_database,
    open_policy,
    policy_option,
    progress,
    secret_box,
)


def _pair(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise click.UsageError(f"{option} takes key=value, got {text!r}")
    return key.strip(), value


@click.group()
def source() -> None:
    """Review sources: platform accounts to fetch reviews from and post replies through."""


@source.command("add")
@click.argument("kind")
@click.argument("name")
@click.option("--set", "values", multiple=True, metavar="KEY=VALUE",
              help="A setting; repeat for lists or give a comma-separated or JSON list.")
@click.option("--secret-file", "secret_files", multiple=True, metavar="KEY=PATH",
              help="A secret setting read from a file (a .p8 key, a service-account JSON).")
@click.option("--secret-env", "secret_envs", multiple=True, metavar="KEY=VAR",
              help="A secret setting read from an environment variable (a refresh token).")
@click.option("--interval", default="15m", show_default=True, help="How often to sync.")
@click.option("--policy", "policy_folder", type=click.Path(file_okay=False, exists=True),
              default=None, help="The policy folder this source's reviews follow (default: "
                                 "the install's policy).")
@click.option("--location", default=None,
              help="One of the policy's [locations.<id>]: this source's sign-off and contact.")
def source_add(kind: str, name: str, values: tuple[str, ...], secret_files: tuple[str, ...],
               secret_envs: tuple[str, ...], interval: str, policy_folder: str | None,
               location: str | None) -> None:
    """Add a source of KIND (a connector name) called NAME; secrets are stored encrypted."""
    from connectors.settings import secret_fields

    from ..secrets import SecretKeyError
    from ..sources.service import (
        SourceError,
        add_source,
        coerce_setting,
        connector_class,
        format_interval,
        parse_interval,
    )

    try:
        cls = connector_class(kind)
        schema = cls.settings_schema
        hidden = secret_fields(schema)
        settings: dict = {}
        for text in values:
            key, raw = _pair(text, "--set")
            if key in hidden:
                raise SourceError(f"{key}: is secret; pass it with --secret-file {key}=PATH or "
                                  f"--secret-env {key}=VARIABLE")
            value = coerce_setting(kind, schema, key, raw)
            if isinstance(value, list) and isinstance(settings.get(key), list):
                value = settings[key] + value
            settings[key] = value
        for text in secret_files:
            key, path = _pair(text, "--secret-file")
            coerce_setting(kind, schema, key, "")
            try:
                settings[key] = Path(path).expanduser().read_text(encoding="utf-8")
            except OSError as exc:
                raise SourceError(f"{key}: cannot read {path} ({exc.strerror})") from None
        for text in secret_envs:
            key, variable = _pair(text, "--secret-env")
            coerce_setting(kind, schema, key, "")
            found = invocation().environ.get(variable)
            if not found:
                raise SourceError(f"{key}: the environment variable {variable} is not set")
            settings[key] = found
        seconds = parse_interval(interval)
        database = open_database()
        with database.session() as session:
            row = add_source(session, secret_box(create=True), kind, name, settings, seconds)
            if policy_folder or location:
                _follow(session, name, policy_folder, location)
            click.echo(f"added source {row.name} ({kind}), synced every "
                       f"{format_interval(seconds)}; test it with `makeright source test {name}`")
        database.dispose()
    except (SourceError, SecretKeyError) as exc:
        raise click.ClickException(str(exc)) from None


def _follow(session, name: str, folder: str | None, location: str | None):
    from ..policy import PolicyError
    from ..sources.brands import set_source_policy

    try:
        return set_source_policy(session, name, folder, location, open_policy(None))
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"the policy for {name} has problems; nothing was "
                                   "changed") from None
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None


@source.command("policy")
@click.argument("name")
@click.argument("folder", required=False, type=click.Path(file_okay=False, exists=True))
@click.option("--location", default=None,
              help="One of the policy's [locations.<id>]: this source's sign-off and contact.")
def source_policy(name: str, folder: str | None, location: str | None) -> None:
    """Make source NAME follow the policy in FOLDER (without FOLDER: the install's policy),
    at one of its locations. Reviews drafted from then on follow it."""
    with database_session() as session:
        chosen = _follow(session, name, folder, location)
        session.commit()
    click.echo(f"{name} now follows {chosen.label} ({chosen.directory})")


@source.command("list")
def source_list() -> None:
    """Show every source, its settings (secrets masked) and how its last sync went."""
    from ..sources.service import format_interval, list_sources, masked_settings

    database = open_database()
    with database.session() as session:
        rows = list_sources(session)
        if not rows:
            click.echo("no sources yet; add one with `makeright source add KIND NAME`")
        for row in rows:
            state = "enabled" if row.enabled else "disabled"
            last = (f"{row.last_sync_at:%Y-%m-%d %H:%M} UTC {row.last_sync_result}"
                    if row.last_sync_at else "never synced")
            click.echo(f"{row.name}  {row.kind}  {state}  every "
                       f"{format_interval(row.interval_seconds)}  cursor "
                       f"{row.cursor or '-'}  last sync: {last}")
            if row.last_sync_error:
                click.echo(f"    error: {row.last_sync_error}")
            settings = masked_settings(row)
            click.echo("    " + ", ".join(f"{key}={value}" for key, value
                                          in sorted(settings.items())))
            if row.policy or row.policy_location:
                click.echo(f"    policy: {row.policy or 'default'}"
                           + (f" at {row.policy_location}" if row.policy_location else ""))
    database.dispose()


@source.command("test")
@click.argument("name")
def source_test(name: str) -> None:
    """Make one cheap authenticated call; exit 0 when the source works, 1 when it does not."""
    from ..secrets import SecretKeyError
    from ..sources.resolve import connector_for
    from ..sources.service import SourceError, get_source

    database = open_database()
    try:
        with database.session() as session:
            row = get_source(session, name)
        connector = connector_for(name, database, box=secret_box())
        check = getattr(connector, "check", None)
        if check is None:
            raise click.ClickException(f"{row.kind} connectors offer no check; run "
                                       f"`makeright sync {name}` to try the source")
        verdict = check()
    except (SourceError, SecretKeyError) as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # the verdict for any failure is the same: this source is broken
        click.echo(f"{name}: FAILED: {str(exc) or type(exc).__name__}", err=True)
        sys.exit(1)
    finally:
        database.dispose()
    click.echo(f"{name}: {verdict}")


@source.command("enable")
@click.argument("name")
def source_enable(name: str) -> None:
    """Sync source NAME on its interval again (from now)."""
    _switch(name, True)


@source.command("disable")
@click.argument("name")
def source_disable(name: str) -> None:
    """Stop syncing source NAME; replies to its reviews still post through it."""
    _switch(name, False)


def _switch(name: str, enabled: bool) -> None:
    from ..sources.service import set_enabled

    with database_session() as session:
        set_enabled(session, name, enabled, actor="cli")
        session.commit()
    click.echo(f"{name}: {'enabled' if enabled else 'disabled'}")


@source.command("remove")
@click.argument("name")
def source_remove(name: str) -> None:
    """Remove a source and its encrypted secrets; reviews already fetched stay."""
    from ..sources.service import remove_source

    with database_session() as session:
        kept = remove_source(session, name)
    click.echo(f"removed source {name}; its {kept} reviews stay")


@click.command("sync")
@click.argument("name", required=False)
@policy_option
def sync(name: str | None, policy_path: str | None) -> None:
    """Fetch new and edited reviews from NAME, or from every enabled source."""
    from ..sources.service import get_source, list_sources
    from ..sources.sync import sync_source

    policy = open_policy(policy_path)
    database = open_database()
    try:
        with database.session() as session:
            names = [get_source(session, name).name] if name else \
                [row.name for row in list_sources(session) if row.enabled]
        if not names:
            click.echo("no enabled sources; add one with `makeright source add KIND NAME`")
        failed = 0
        for source_name in names:
            result = sync_source(database, source_name, policy, progress=progress)
            click.echo(f"{source_name}: {result.summary}", err=not result.ok)
            failed += not result.ok
    finally:
        database.dispose()
    sys.exit(1 if failed else 0)


@click.group()
def secrets() -> None:
    """The keys that encrypt source credentials at rest."""


@secrets.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret under the first configured key.

    Put the new key first in MAKERIGHT_SECRET_KEYS (or the instance key file) and keep the old
    one after it; once this succeeds, the old key can be removed.
    """
    from ..outbound.signing import rotate_sealed
    from ..sources.service import rotate_secrets

    database = open_database()
    try:
        box = secret_box()
        with database.session() as session:
            count = rotate_secrets(session, box)
            signing = rotate_sealed(session, box)
    finally:
        database.dispose()
    click.echo(f"re-encrypted the secrets of {count} sources and {signing} webhook signing "
               f"secrets under the first key of {box.origin}")


@secrets.command("new-key")
def secrets_new_key() -> None:
    """Print a fresh Fernet key to put first in MAKERIGHT_SECRET_KEYS or the key file."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode("ascii"))


# `makeright source push-setup`: Google Business Profile review notifications to Pub/Sub.
# With notifications set up, Google publishes NEW_REVIEW and UPDATED_REVIEW messages to the
# topic, and a push subscription to `/webhooks/google/pubsub` brings each review in within
# seconds; the periodic sync stays as the fallback, since Google promises no delivery time.
TOPIC_RE = re.compile(r"projects/[^/]+/topics/[^/]+")


@source.command("push-setup")
@click.argument("name")
@click.option("--topic", help="The Pub/Sub topic, projects/PROJECT/topics/TOPIC.")
@click.option("--disable", is_flag=True, help="Stop Google sending review notifications.")
def push_setup(name: str, topic: str | None, disable: bool) -> None:
    """Ask Google to publish review notifications of source NAME's accounts to a topic
    (Business Profile Notifications API v1)."""
    from connectors.google_business import GoogleBusinessConnector

    from ..sources.resolve import connector_for
    from ..sources.service import get_source

    if disable == bool(topic):
        raise click.UsageError("give --topic projects/PROJECT/topics/TOPIC, or --disable")
    if topic and not TOPIC_RE.fullmatch(topic):
        raise click.UsageError(f"--topic: {topic!r} is not projects/PROJECT/topics/TOPIC")
    database = open_database()
    try:
        with database.session() as session:
            row = get_source(session, name)
            if row.kind != "google_business":
                raise click.UsageError(f"{name} is a {row.kind} source; push notifications "
                                       "are set up for google_business sources")
        connector = connector_for(name, database, box=secret_box())
        assert isinstance(connector, GoogleBusinessConnector)  # the kind is checked above
        settings = connector.set_notifications(None if disable else topic)
    finally:
        database.dispose()
    for setting in settings:
        types = ", ".join(setting.get("notificationTypes") or []) or "none"
        click.echo(f"{setting.get('name')}: {setting.get('pubsubTopic') or 'no topic'} ({types})")
    if not disable:
        click.echo("Grant mybusiness-api-pubsub@system.gserviceaccount.com the Pub/Sub Publisher "
                   "role on the topic, and push its subscription to /webhooks/google/pubsub.")
