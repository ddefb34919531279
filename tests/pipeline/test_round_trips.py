"""The database round trips a review costs from ingest to posted, held to a budget.

A worker that reads the same draft again in every step, opens a transaction per claim and
another per outcome, or audits row by row still works, and no other test would notice: it
just costs the database three times as much per review. This test ingests a small batch the
way every door does, lets one worker with default settings draft, auto-approve and post it,
and counts every statement, BEGIN, COMMIT, ROLLBACK and connection ping (tests/roundtrips.py)
on SQLite and on PostgreSQL.

Outbound events are installed, as every worker and app installs them, with no webhook
endpoint configured (the common case): they cost one read of the endpoints per transaction,
not one per change.
"""
from __future__ import annotations

import dataclasses
import uuid

import pytest

from plugin import intake
from plugin.outbound import events
from plugin.pipeline.config import PipelineSettings
from plugin.pipeline.worker import Worker
from plugin.store import states
from plugin.store.models import ReviewRow
from tests.roundtrips import counting

#: Round trips per review for the worker path (draft + auto-approve + post), and for ingest.
#: The bench (bench/pipeline.py) measures the same on 2,000 reviews; the batch here is small,
#: so the fixed cost of a tick (the last one finds nothing) weighs more per review. SQLite's
#: BEGIN IMMEDIATE is a statement of its own and counted as one, where PostgreSQL's BEGIN goes
#: with the first statement: a transaction costs SQLite one trip more than the count of
#: PostgreSQL's begins would suggest, and its budget is half a trip a review wider.
WORKER_BUDGET = {"postgresql": 12.0, "sqlite": 12.5}
INGEST_BUDGET = 0.5
REVIEWS = 200

PRAISE = ["Great coffee and frendly people!", "Lovely bakery, the sourdough is top.",
          "Beste Zimtschnecken der Stadt, danke!", "Très bon accueil, merci beaucoup.",
          "Service rapide et sympa 👍", "とても美味しかったです。また来ます!"]


def test_a_review_costs_few_round_trips_from_ingest_to_posted(database, policy, make_review,
                                                              platform, resolve, monkeypatch):
    monkeypatch.setattr(states, "LISTENERS", [events._on_changes])
    reviews = [make_review(rating=5, text=PRAISE[n % len(PRAISE)], author="Sam K.",
                           source=f"accounts/7/locations/{uuid.uuid4().hex[:12]}")
               for n in range(REVIEWS)]
    with counting(database.engine) as ingest, database.session() as session:
        intake.take_in(session, reviews, policy, intake.Door("test"))
    auto = dataclasses.replace(policy, auto_approve={
        "enabled": True, "min_rating": 5, "daily_cap": 1000, "delay_minutes": 0})
    worker = Worker(database, auto, name="w1", resolve=resolve,
                    settings=PipelineSettings(idle_seconds=0.01))
    with counting(database.engine, keep_statements=True) as work:
        worker.run(once=True)
    with database.session() as session:
        posted = session.query(ReviewRow).filter(ReviewRow.status == states.POSTED).count()
    assert posted == REVIEWS
    assert sum(platform.write_counts().values()) == REVIEWS
    per_review = work.total / REVIEWS
    heaviest = sorted(work.by_statement.items(), key=lambda item: -item[1])[:8]
    assert per_review <= WORKER_BUDGET[database.engine.dialect.name], (
        f"{per_review:.2f} round trips a review ({work.as_dict()}); most frequent: {heaviest}")
    assert ingest.total / REVIEWS <= INGEST_BUDGET, ingest.as_dict()


@pytest.mark.parametrize("statements", [1, 3])
def test_the_count_sees_every_statement_and_transaction(database, statements):
    """The counter itself: a transaction of n statements is n + COMMIT (+ BEGIN and a ping on
    PostgreSQL), so the budget above measures what the server is asked for."""
    from sqlalchemy import text

    with counting(database.engine) as trips, database.session() as session:
        for _ in range(statements):
            session.execute(text("SELECT 1"))
    postgres = database.engine.dialect.name == "postgresql"
    # SQLite's BEGIN IMMEDIATE is a statement of its own; psycopg sends BEGIN by itself.
    assert trips.statements == statements + (0 if postgres else 1)
    assert trips.commits == 1
    assert trips.begins == (1 if postgres else 0)
    assert trips.pings == (1 if postgres else 0)
