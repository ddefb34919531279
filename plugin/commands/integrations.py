"""Command-line administration of the integration surface: API tokens, inbound signing
secrets, outbound endpoints and their delivery attempts, and the manifest file.

Secrets and tokens are printed exactly once, when created; afterwards only their ids, names
and prefixes are shown.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .console import DeferredHelpOption, database_session, open_database

if TYPE_CHECKING:
    pass


def _scopes() -> list[str]:
    from ..api.tokens import SCOPES

    return list(SCOPES)


def _events() -> list[str]:
    from ..outbound.events import EVENTS

    return list(EVENTS)


def _repository_file() -> Path:
    from ..api.manifest import REPOSITORY_FILE

    return REPOSITORY_FILE


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.replace(" ", ",").split(",") if item.strip()]


@click.group()
def token() -> None:
    """REST API bearer tokens."""


@token.command("create")
@click.argument("name")
@click.option("--scopes", required=True,
              cls=DeferredHelpOption, help_text=lambda: f"Comma-separated: {', '.join(_scopes())}.")
def token_create(name: str, scopes: str) -> None:
    """Create a token; its value is printed once and stored only as a hash."""
    from ..api.tokens import create_token

    database = open_database()
    try:
        with database.session() as session:
            row, plain = create_token(session, name, _split(scopes))
            token_id = row.id
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        database.dispose()
    click.echo(f"token {token_id} ({name}) created; copy it now, it will not be shown again:")
    click.echo(plain)


@token.command("list")
def token_list() -> None:
    """Tokens with their scopes and whether they are revoked."""
    from sqlalchemy import select

    from ..api.models import ApiToken

    database = open_database()
    with database.session() as session:
        for row in session.scalars(select(ApiToken).order_by(ApiToken.id)):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            click.echo(f"{row.id}\t{row.name}\t{row.prefix}…\t{','.join(row.scopes)}\t{state}"
                       f"\tlast used {used}")
    database.dispose()


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    from ..api.tokens import revoke_token

    database = open_database()
    with database.session() as session:
        done = revoke_token(session, token_id)
    database.dispose()
    if not done:
        raise click.ClickException(f"no active token {token_id}")
    click.echo(f"token {token_id} revoked")


@click.group()
def webhook() -> None:
    """Outbound event endpoints, their attempts, and inbound signing secrets."""


@webhook.command("add")
@click.argument("url")
@click.option("--events", "event_names", required=True,
              cls=DeferredHelpOption,
              help_text=lambda: f"Comma-separated: {', '.join(_events())}, or all.")
def webhook_add(url: str, event_names: str) -> None:
    """Subscribe URL to events; prints the endpoint's signing secret once."""
    from ..outbound.subscriptions import add_endpoint

    names = ["all"] if event_names.strip() == "all" else _split(event_names)
    with database_session() as session:
        row, secret = add_endpoint(session, url, names)
        endpoint_id, events = row.id, row.events
    click.echo(f"endpoint {endpoint_id} added for {', '.join(events)}; its signing secret "
               "(shown once):")
    click.echo(secret)


@webhook.command("list")
def webhook_list() -> None:
    """Endpoints, their events, and why any is disabled."""
    from sqlalchemy import select

    from ..outbound.models import WebhookEndpoint

    database = open_database()
    with database.session() as session:
        for row in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)):
            state = "enabled" if row.enabled else f"disabled: {row.disabled_reason}"
            click.echo(f"{row.id}\t{row.url}\t{','.join(row.events)}\t{state}")
    database.dispose()


@webhook.command("remove")
@click.argument("endpoint_id", type=int)
def webhook_remove(endpoint_id: int) -> None:
    """Delete an endpoint and its pending deliveries."""
    from ..outbound.subscriptions import remove_endpoint

    with database_session() as session:
        remove_endpoint(session, endpoint_id)
    click.echo(f"endpoint {endpoint_id} removed")


@webhook.command("enable")
@click.argument("endpoint_id", type=int)
def webhook_enable(endpoint_id: int) -> None:
    """Re-enable an endpoint that was disabled (410 or an exhausted schedule)."""
    from ..outbound.subscriptions import enable_endpoint

    with database_session() as session:
        enable_endpoint(session, endpoint_id)
    click.echo(f"endpoint {endpoint_id} enabled")


@webhook.command("attempts")
@click.option("--endpoint", "endpoint_id", type=int, default=None)
@click.option("--limit", type=int, default=50, show_default=True)
def webhook_attempts(endpoint_id: int | None, limit: int) -> None:
    """The most recent delivery attempts: event, endpoint, status, error, next try."""
    from ..outbound.subscriptions import recent_attempts

    with database_session() as session:
        for attempt, delivery in recent_attempts(session, endpoint_id, limit):
            next_at = f"{attempt.next_attempt_at:%Y-%m-%d %H:%M:%S}" \
                if attempt.next_attempt_at else "-"
            click.echo(f"{attempt.at:%Y-%m-%d %H:%M:%S}\tendpoint {delivery.endpoint_id}\t"
                       f"{delivery.event.type} {delivery.event.message_id}\t"
                       f"try {attempt.number}\t{attempt.status_code or '-'}\t"
                       f"{attempt.error or 'ok'}\t{attempt.duration_ms} ms\tnext {next_at}\t"
                       f"{delivery.status}")


@webhook.command("deliver")
def webhook_deliver() -> None:
    """Attempt every due delivery once (the worker does this continuously)."""
    from ..outbound.delivery import deliver_due

    database = open_database()
    count = deliver_due(database)
    database.dispose()
    click.echo(f"{count} attempts made")


@webhook.group("inbound")
def inbound() -> None:
    """Secrets that sign reviews posted to /webhooks/reviews (beside MAKERIGHT_WEBHOOK_SECRETS)."""


@inbound.command("create")
@click.argument("label")
def inbound_create(label: str) -> None:
    """Create a signing secret for an integrator; printed once, stored encrypted."""
    from ..outbound.subscriptions import create_inbound_secret

    with database_session() as session:
        row, secret = create_inbound_secret(session, label)
        secret_id = row.id
    click.echo(f"inbound secret {secret_id} ({label}) created; shown once:")
    click.echo(secret)


@inbound.command("list")
def inbound_list() -> None:
    from sqlalchemy import select

    from ..outbound.models import WebhookSecret

    database = open_database()
    with database.session() as session:
        for row in session.scalars(select(WebhookSecret).order_by(WebhookSecret.id)):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            click.echo(f"{row.id}\t{row.label}\t{state}")
    database.dispose()


@inbound.command("revoke")
@click.argument("secret_id", type=int)
def inbound_revoke(secret_id: int) -> None:
    from ..outbound.subscriptions import revoke_inbound_secret

    with database_session() as session:
        revoke_inbound_secret(session, secret_id)
    click.echo(f"inbound secret {secret_id} revoked")


@click.command("manifest")
@click.option("--write", "write", is_flag=True, cls=DeferredHelpOption,
              help_text=lambda: f"Write {_repository_file().name} at the repository root.")
@click.option("--check", is_flag=True, help="Exit 1 if the file differs from the code.")
def manifest(write: bool, check: bool) -> None:
    """Print the plugin manifest generated from code (or write / check manifest.json)."""
    from ..api.manifest import build_manifest, render

    text = render(build_manifest())
    path = Path(_repository_file())
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            click.echo(f"{path} is out of date; run `makeright manifest --write`", err=True)
            sys.exit(1)
        click.echo(f"{path} is up to date")
    elif write:
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
    else:
        click.echo(text, nl=False)
