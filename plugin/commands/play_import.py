"""`makeright import-play-reviews`: Play's monthly review exports into the queue.

Reviews older than the first sync reach the queue only this way (the reviews API lists about a
week). A review the queue already has, synced or imported before, is left as it is: the API's
copy is the fresher one, and importing the same file twice adds nothing. Replies to imported
reviews post through the normal path, since Play answers older review ids too.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from .console import open_database, open_policy, policy_option, secret_box

if TYPE_CHECKING:
    from connectors.base import Review

    from ..policy import Policy
    from ..store.db import Database


def newest(reviews: list[Review]) -> list[Review]:
    """One review per id: a review edited between two monthly files is in both."""
    kept: dict[str, Review] = {}
    for review in reviews:
        seen = kept.get(review.external_id)
        if seen is None or (review.updated_at or review.created_at) > \
                (seen.updated_at or seen.created_at):
            kept[review.external_id] = review
    return list(kept.values())


def play_sources(database: Database) -> dict[str, str]:
    """Package name -> the name of the Google Play source that answers its reviews."""
    from ..sources.service import list_sources

    with database.session() as session:
        return {str(row.settings.get("package_name")): row.name
                for row in list_sources(session) if row.kind == "google_play"}


def import_reviews(database: Database, policy: Policy, reviews: list[Review], *,
                   draft: bool = False) -> Counter[str]:
    """Store the reviews the queue does not have yet: counts of new, known, with_reply.

    A review is filed under the Google Play source of its package, as a synced one is, so a
    reply to it posts through that source; `no_source` counts reviews of packages without one.
    """
    from .. import intake
    from ..drafting import draft_review
    from ..sources.brands import intake_sources
    from ..store.reviews import NEW_OUTCOME, save_draft, to_review

    # The export's copy of a review is older than the API's, so a stored one is left alone.
    door = intake.Door("play_export", refresh_known=False)
    counts: Counter[str] = Counter()
    sources = play_sources(database)
    latest = newest(reviews)
    answered_by = [sources.get(review.source) for review in latest]
    filed = [review if source is None else replace(review, source=source)
             for review, source in zip(latest, answered_by, strict=True)]
    with database.session() as session:
        # The brand each Play source follows, read before the session that writes.
        terms = intake_sources(session, (review.source for review in filed), policy)
    classified = intake.classify(filed, policy, terms)
    with database.session() as session:
        stored_all = intake.store(session, classified, door)
        for review, source, stored in zip(filed, answered_by, stored_all, strict=True):
            if stored.outcome != NEW_OUTCOME:
                counts["known"] += 1
                continue
            counts["new"] += 1
            if source is None:
                counts["no_source"] += 1
            if review.reply is not None:
                counts["with_reply"] += 1
            if draft and stored.row.status == "new":
                own = terms.policies.get(review.source, policy)
                save_draft(session, stored.row, draft_review(to_review(stored.row), own))
                counts["drafted"] += 1
    return counts


def service_account_of(database: Database, name: str | None) -> dict[str, Any] | str:
    """The service-account key of a Google Play source (the named one, or the only one)."""
    from ..sources.service import config_of, get_source, list_sources

    with database.session() as session:
        if name is None:
            plays = [s for s in list_sources(session) if s.kind == "google_play"]
            if len(plays) != 1:
                raise click.UsageError("--source: name the Google Play source whose service "
                                       f"account reads the bucket ({len(plays)} found)")
            row = plays[0]
        else:
            row = get_source(session, name)
            if row.kind != "google_play":
                raise click.UsageError(f"--source: {name} is a {row.kind} source, not "
                                       "google_play")
        return config_of(row, secret_box()).settings["service_account_json"]


@click.command("import-play-reviews")
@click.argument("location")
@click.option("--source", "source_name", default=None,
              help="The Google Play source whose service account reads gs:// files.")
@click.option("--draft/--no-draft", "do_draft", default=False, help="Draft the new reviews now.")
@policy_option
def import_play_reviews(location: str, source_name: str | None, do_draft: bool,
                        policy_path: str | None) -> None:
    """Import Play's monthly review exports from LOCATION (FILE.csv, a folder, or
    gs://bucket/path) into the queue; reviews already there are not touched.

    Rows that cannot be read are reported as `FILE: line N: column: problem`; the exit status
    is 1 if any were.
    """
    from connectors.play_exports import exports, read_local, read_storage

    policy = open_policy(policy_path)
    database = open_database()
    if location.startswith("gs://"):
        files = read_storage(location, service_account_of(database, source_name))
    else:
        files = read_local(location)
    found = list(exports(files))
    reviews = [review for export in found for review in export.reviews]
    errors = [f"{export.name}: {error}" for export in found for error in export.errors]
    for error in errors:
        click.echo(error, err=True)
    counts = import_reviews(database, policy, reviews, draft=do_draft)
    database.dispose()
    rating_only = sum(export.rating_only for export in found)
    summary = (f"{len(found)} file(s): {counts['new']} new ({counts['with_reply']} already "
               f"answered), {counts['known']} already known, {rating_only} rating-only "
               f"skipped, {len(errors)} rejected")
    if do_draft:
        summary += f", {counts['drafted']} drafted"
    click.echo(summary)
    if counts["no_source"]:
        click.echo(f"{counts['no_source']} review(s) belong to an app without a Google Play "
                   "source; add one with `makeright source add google_play` to post replies",
                   err=True)
    sys.exit(1 if errors else 0)
