"""`makeright source push-setup`: Google Business Profile review notifications to Pub/Sub.

With notifications set up, Google publishes NEW_REVIEW and UPDATED_REVIEW messages to the
topic, and a push subscription to `/webhooks/google/pubsub` brings each review in within seconds;
the periodic sync stays as the fallback, since Google promises no delivery time.
"""
from __future__ import annotations

import re

import click

from connectors.errors import ConnectorError

from ..console import open_database
from .commands import source
from .secrets import SecretKeyError, load_box
from .service import SourceError, build_connector, get_source

TOPIC_RE = re.compile(r"projects/[^/]+/topics/[^/]+")


@source.command("push-setup")
@click.argument("name")
@click.option("--topic", help="The Pub/Sub topic, projects/PROJECT/topics/TOPIC.")
@click.option("--disable", is_flag=True, help="Stop Google sending review notifications.")
def push_setup(name: str, topic: str | None, disable: bool) -> None:
    """Ask Google to publish review notifications of source NAME's accounts to a topic
    (Business Profile Notifications API v1)."""
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
            connector = build_connector(row, load_box(), database.session)
        settings = connector.set_notifications(None if disable else topic)
    except (SourceError, SecretKeyError, ConnectorError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        database.dispose()
    for setting in settings:
        types = ", ".join(setting.get("notificationTypes") or []) or "none"
        click.echo(f"{setting.get('name')}: {setting.get('pubsubTopic') or 'no topic'} ({types})")
    if not disable:
        click.echo("Grant mybusiness-api-pubsub@system.gserviceaccount.com the Pub/Sub Publisher "
                   "role on the topic, and push its subscription to /webhooks/google/pubsub.")
