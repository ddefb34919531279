"""`makeright worker`, `makeright pause` and `makeright resume`."""
from __future__ import annotations

import logging
import signal
import sys

import click

from ..config import DEFAULT_POST_CONCURRENCY, MAX_POST_CONCURRENCY
from ..pipeline.config import (
    LEASE_ENV,
    POLL_ENV,
    POST_CONCURRENCY_ENV,
    PipelineSettings,
    SettingsError,
)
from .console import open_database, open_policy, policy_option, settings


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")


@click.command()
@click.option("--once", is_flag=True, help="Exit when no work is left instead of waiting.")
@click.option("--concurrency", type=click.IntRange(1, MAX_POST_CONCURRENCY), default=None,
              help=f"Replies posted in parallel by this process (default "
                   f"{DEFAULT_POST_CONCURRENCY}; env {POST_CONCURRENCY_ENV}).")
@click.option("--name", default=None, help="Worker name in claims and logs "
                                           "(default: host:pid).")
@click.option("--lease-seconds", type=float, default=None,
              help=f"How long a post's claim is held before the reaper may take it over "
                   f"(default 300; env {LEASE_ENV}).")
@click.option("--poll-seconds", type=float, default=None,
              help=f"Pause between ticks that found nothing to do (default 2; env {POLL_ENV}).")
@policy_option
def worker(once: bool, concurrency: int | None, name: str | None, lease_seconds: float | None,
           poll_seconds: float | None, policy_path: str | None) -> None:
    """Sync sources, draft new reviews, post approved replies and deliver events.

    SIGTERM or Ctrl-C finishes the item in hand, then exits.
    """
    from ..runtime import build_worker

    configured = settings()
    timings = PipelineSettings.for_worker(configured.worker)
    for option, value in (("--lease-seconds", {"lease_seconds": lease_seconds}),
                          ("--poll-seconds", {"poll_seconds": poll_seconds}),
                          ("--concurrency", {"post_concurrency": concurrency})):
        try:
            timings = timings.tuned(**value)
        except SettingsError as exc:
            raise click.BadParameter(str(exc), param_hint=option) from None
    _configure_logging()
    policy = open_policy(policy_path)
    database = open_database()
    runner = build_worker(database, policy, timings, instance=configured.paths.instance,
                          name=name, llm=configured.llm)

    def _stop(signum, _frame) -> None:
        logging.getLogger("makeright.pipeline").info(
            "action=worker.signal signal=%s", signal.Signals(signum).name)
        runner.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.run(once=once)
    database.dispose()


@click.command()
@click.option("--reason", default="", help="Why, for the audit log.")
@click.option("--actor", default="cli", show_default=True, help="Who, for the audit log.")
def pause(reason: str, actor: str) -> None:
    """Stop auto-approval and automatic posting (the kill switch).

    Workers still post the replies a person explicitly asks to post now from the queue or
    the API.
    """
    from ..pipeline.control import set_paused

    database = open_database()
    with database.session() as session:
        set_paused(session, True, actor, reason)
    database.dispose()
    click.echo("paused: nothing is auto-approved and workers post only what a person asks to "
               "post now, until `resume`")


@click.command()
@click.option("--reason", default="", help="Why, for the audit log.")
@click.option("--actor", default="cli", show_default=True, help="Who, for the audit log.")
def resume(reason: str, actor: str) -> None:
    """Let workers post and auto-approve again."""
    from ..pipeline.control import is_paused, set_paused

    database = open_database()
    with database.session() as session:
        was = is_paused(session)
        set_paused(session, False, actor, reason)
    database.dispose()
    click.echo("resumed" if was else "was not paused; nothing changed")
