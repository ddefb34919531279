"""Counting the database round trips an engine makes, from SQLAlchemy's own events.

What is counted, per engine, and why each is one trip to the server and back:

- every statement SQLAlchemy hands the driver (`before_cursor_execute`; an executemany or a
  batch of "insertmanyvalues" is one per batch the driver sends, as the event fires);
- on PostgreSQL, every transaction's BEGIN (psycopg sends it before the first statement of a
  transaction; on SQLite the engine's `BEGIN IMMEDIATE` is itself a statement, counted above);
- every COMMIT and ROLLBACK of a connection;
- on an engine with `pool_pre_ping`, the ping at each checkout from the pool (a `SELECT 1` the
  dialect sends on the raw connection, which no statement event sees).

It is a client-side count of what the process asks for, so it attributes work to the process
that caused it (ingest or a worker) even on a server others share, which server counters such
as pg_stat_database cannot.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class RoundTrips:
    statements: int = 0
    begins: int = 0
    commits: int = 0
    rollbacks: int = 0
    pings: int = 0
    by_statement: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.statements + self.begins + self.commits + self.rollbacks + self.pings

    def as_dict(self) -> dict[str, int]:
        return {"statements": self.statements, "begins": self.begins, "commits": self.commits,
                "rollbacks": self.rollbacks, "pings": self.pings, "total": self.total}


def count_round_trips(engine: Engine, *, keep_statements: bool = False) -> RoundTrips:
    """Start counting `engine`'s round trips into the returned value, for as long as it lives."""
    counts = RoundTrips()
    for target, name, listener in _listeners(engine, counts, keep_statements):
        event.listen(target, name, listener)
    return counts


def _listeners(engine: Engine, counts: RoundTrips,
               keep_statements: bool) -> list[tuple[object, str, Callable[..., None]]]:
    postgres = engine.dialect.name == "postgresql"
    pinged = bool(getattr(engine.pool, "_pre_ping", False))

    def statement(_conn, _cursor, text, _parameters, _context, _executemany) -> None:
        counts.statements += 1
        if keep_statements:
            key = " ".join(text.split())[:90]
            counts.by_statement[key] = counts.by_statement.get(key, 0) + 1

    def begin(_conn) -> None:
        if postgres:
            counts.begins += 1

    def commit(_conn) -> None:
        counts.commits += 1

    def rollback(_conn) -> None:
        counts.rollbacks += 1

    def checkout(_dbapi_connection, _record, _proxy) -> None:
        if pinged:
            counts.pings += 1

    return [(engine, "before_cursor_execute", statement), (engine, "begin", begin),
            (engine, "commit", commit), (engine, "rollback", rollback),
            (engine.pool, "checkout", checkout)]


@contextmanager
def counting(engine: Engine, *, keep_statements: bool = False) -> Iterator[RoundTrips]:
    """Count `engine`'s round trips inside the block only."""
    counts = RoundTrips()
    listeners = _listeners(engine, counts, keep_statements)
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield counts
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
