"""Counts of reviews kept up to date by the database, so the queue's tabs never count the table.

`review_tallies` holds how many reviews there are per combination of the values the queue
filters on most (status, platform, source, brand, rating, escalation, assignee) and whether we
have posted a reply (for the dashboard's present-state figures). The combinations in use are
bounded by the product of those few values, not by the number of reviews; each further column
would multiply them (language by a dozen), so the rarer filters (language, offer, violations)
count their matching rows instead.
Triggers on `reviews` write to it in the same transaction as every insert, delete and change of
one of those columns, whichever code path makes it (the state machine, bulk intake, an edit, a
deletion by cascade), so it cannot drift from the rows.

A trigger only appends: +1 for the key a row enters, -1 for the key it leaves. Updating one
counter row per key instead would make every two transactions that move reviews between the
same keys wait on each other, and on PostgreSQL deadlock when they do so in opposite orders.
`fold` adds the appended rows up into one row per key; the worker runs it every minute, so the
table holds about one row per combination in use (thousands, however many reviews there are)
plus the last minute's changes. Readers sum it either way.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Boolean, Integer, String, Text, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from .models import Base


class ReviewTally(Base):
    """A number of reviews (+n or -n) with one combination of the queue's filter values.

    Columns that may be NULL on a review hold '' here instead, so equal keys compare equal.
    """

    __tablename__ = "review_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(200))
    policy: Mapped[str] = mapped_column(String(200))
    rating: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[bool] = mapped_column(Boolean)
    assignee: Mapped[str] = mapped_column(String(150))
    replied: Mapped[bool] = mapped_column(Boolean)
    reviews: Mapped[int] = mapped_column(Integer)


class ReviewDay(Base):
    """A number of reviews (+n or -n) written on one UTC day with one combination of what the
    dashboard's period figures count: brand, place, rating, skipped, and the public state of
    our posted reply ('' when none was posted). See `insights.figures`."""

    __tablename__ = "review_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    policy: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(Text)
    rating: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[bool] = mapped_column(Boolean)
    reply: Mapped[str] = mapped_column(String(20))
    reviews: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class Key:
    """One key column of a tally and how a review row gives its value: an SQL expression of
    `{row}.column`s, and PostgreSQL's spelling where it differs."""

    name: str
    expression: str
    postgres: str = ""

    def sql(self, dialect: str, row: str) -> str:
        return (self.postgres if dialect == "postgresql" and self.postgres
                else self.expression).format(row=row)


JSON_COLUMNS = frozenset({"metadata"})


@dataclass(frozen=True)
class Appended:
    """A tally table kept by append-only triggers on `reviews` (see the module's docstring)."""

    table: str
    keys: tuple[Key, ...]
    #: The review columns the keys read: only an update of one of these can move a review.
    watched: tuple[str, ...]

    @property
    def names(self) -> str:
        return ", ".join(key.name for key in self.keys)

    def _append(self, dialect: str, row: str, sign: int) -> str:
        values = ", ".join(key.sql(dialect, row) for key in self.keys)
        return f"INSERT INTO {self.table} ({self.names}, reviews) VALUES ({values}, {sign});"

    def _changed(self, old: str, new: str, distinct: str) -> str:
        # PostgreSQL's json has no equality: JSON columns are compared as their text.
        cast = "::text" if distinct == "IS DISTINCT FROM" else ""
        return " OR ".join(
            f"{old}.{column}{cast if column in JSON_COLUMNS else ''} {distinct} "
            f"{new}.{column}{cast if column in JSON_COLUMNS else ''}" for column in self.watched)

    def sqlite_create(self) -> tuple[str, ...]:
        return (
            f"CREATE TRIGGER {self.table}_insert AFTER INSERT ON reviews BEGIN "
            f"{self._append('sqlite', 'new', 1)} END",
            f"CREATE TRIGGER {self.table}_delete AFTER DELETE ON reviews BEGIN "
            f"{self._append('sqlite', 'old', -1)} END",
            f"CREATE TRIGGER {self.table}_update AFTER UPDATE OF {', '.join(self.watched)} ON "
            f"reviews WHEN {self._changed('old', 'new', 'IS NOT')} BEGIN "
            f"{self._append('sqlite', 'old', -1)} {self._append('sqlite', 'new', 1)} END",
        )

    def sqlite_drop(self) -> tuple[str, ...]:
        return tuple(f"DROP TRIGGER IF EXISTS {self.table}_{event}"
                     for event in ("insert", "delete", "update"))

    def postgres_create(self) -> tuple[str, ...]:
        return (
            f"CREATE FUNCTION {self.table}_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF TG_OP <> 'INSERT' THEN {self._append('postgresql', 'OLD', -1)} END IF; "
            f"IF TG_OP <> 'DELETE' THEN {self._append('postgresql', 'NEW', 1)} END IF; "
            f"RETURN NULL; END $$",
            f"CREATE TRIGGER {self.table}_insert_delete AFTER INSERT OR DELETE ON reviews "
            f"FOR EACH ROW EXECUTE FUNCTION {self.table}_change()",
            f"CREATE TRIGGER {self.table}_update AFTER UPDATE OF {', '.join(self.watched)} ON "
            f"reviews FOR EACH ROW WHEN ({self._changed('OLD', 'NEW', 'IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION {self.table}_change()",
        )

    def postgres_drop(self) -> tuple[str, ...]:
        return (f"DROP TRIGGER IF EXISTS {self.table}_insert_delete ON reviews",
                f"DROP TRIGGER IF EXISTS {self.table}_update ON reviews",
                f"DROP FUNCTION IF EXISTS {self.table}_change()")

    def fill(self, dialect: str) -> str:
        """Counts every review once: what the table starts from when the triggers are made."""
        return (f"INSERT INTO {self.table} ({self.names}, reviews) SELECT "
                f"{', '.join(key.sql(dialect, 'reviews') for key in self.keys)}, count(*) "
                f"FROM reviews GROUP BY {', '.join(str(i + 1) for i in range(len(self.keys)))}")

    def create(self, connection: Connection) -> None:
        """The triggers, then one row per key for the reviews already there."""
        dialect = connection.dialect.name
        for statement in self.sqlite_create() if dialect == "sqlite" else self.postgres_create():
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(self.fill(dialect))

    def drop(self, connection: Connection) -> None:
        sqlite = connection.dialect.name == "sqlite"
        for statement in self.sqlite_drop() if sqlite else self.postgres_drop():
            connection.exec_driver_sql(statement)

    def fold(self, connection: Connection | Session) -> int:
        """Add the appended rows up into one row per key (dropping keys at zero); how many
        rows there were. Exact under concurrent writers: on PostgreSQL the rows summed are
        exactly the rows deleted (one statement, one snapshot), and SQLite has one writer at a
        time."""
        top, rows = connection.execute(text(
            f"SELECT max(id), count(*) FROM {self.table}")).one()
        if not rows:
            return 0
        summed = (f"INSERT INTO {self.table} ({self.names}, reviews) SELECT {self.names}, "
                  "sum(reviews) FROM {source} GROUP BY " + self.names +
                  " HAVING sum(reviews) <> 0")
        if _dialect(connection) == "postgresql":
            connection.execute(text(
                f"WITH gone AS (DELETE FROM {self.table} WHERE id <= :top RETURNING "
                f"{self.names}, reviews) " + summed.format(source="gone")), {"top": top})
        else:
            connection.execute(text(summed.format(source=f"{self.table} WHERE id <= :top")),
                               {"top": top})
            connection.execute(text(f"DELETE FROM {self.table} WHERE id <= :top"),
                               {"top": top})
        return int(rows)


QUEUE = Appended(ReviewTally.__tablename__, (
    Key("status", "{row}.status"),
    Key("platform", "{row}.platform"),
    Key("source", "coalesce({row}.source, '')"),
    Key("policy", "coalesce({row}.policy, '')"),
    Key("rating", "{row}.rating"),
    Key("escalated", "coalesce({row}.escalated, false)"),
    Key("assignee", "coalesce({row}.assignee, '')"),
    Key("replied", "{row}.posted_at IS NOT NULL"),
), ("status", "platform", "source", "policy", "rating", "escalated", "assignee", "posted_at"))

# The location member of the metadata as `insights.sql.json_member_text` reads it: PostgreSQL
# refuses to extract from a value holding an escaped lone surrogate or NUL, so those rows give
# the member as written.
_LOCATION_PG = (
    r"coalesce(CASE WHEN {row}.metadata::text ~* '\\u(d[89a-f][0-9a-f]{{2}}|0000)' "
    r"""THEN substring({row}.metadata::text, '"location"\s*:\s*"((?:[^"\\]|\\.)*)"') """
    r"ELSE {row}.metadata->>'location' END, '')")
DAYS = Appended(ReviewDay.__tablename__, (
    Key("day", "strftime('%Y-%m-%d', {row}.review_created_at)",
        "to_char(timezone('UTC', {row}.review_created_at), 'YYYY-MM-DD')"),
    Key("policy", "coalesce({row}.policy, '')"),
    Key("platform", "{row}.platform"),
    Key("source", "coalesce({row}.source, '')"),
    Key("location", "coalesce(json_extract({row}.metadata, '$.\"location\"'), '')", _LOCATION_PG),
    Key("rating", "{row}.rating"),
    Key("skipped", "{row}.status = 'skipped'"),
    Key("reply", "CASE WHEN {row}.posted_at IS NULL THEN '' "
                 "ELSE coalesce({row}.public_state, 'published') END"),
), ("review_created_at", "policy", "platform", "source", "metadata", "rating", "status",
    "posted_at", "public_state"))
TALLIES = (QUEUE, DAYS)
KEYS = QUEUE.keys
#: The triggers by name with their exact SQL, for the backup check (as `search.SQLITE_TRIGGERS`).
SQLITE_TRIGGERS = {statement.split()[2]: statement
                   for tally in TALLIES for statement in tally.sqlite_create()}


def create(connection: Connection) -> None:
    for tally in TALLIES:
        tally.create(connection)


def drop(connection: Connection) -> None:
    for tally in TALLIES:
        tally.drop(connection)


def is_own_trigger(name: str, sql: str | None) -> bool:
    """A trigger exactly as this module creates it."""
    return SQLITE_TRIGGERS.get(name) == sql


def fold(connection: Connection | Session) -> int:
    """Fold every tally table (see `Appended.fold`); how many rows there were."""
    return sum(tally.fold(connection) for tally in TALLIES)


def _dialect(connection: Connection | Session) -> str:
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    return bind.dialect.name


def status_counts(session: Session, statuses: Iterable[str] | None = None,
                  **equal: object) -> dict[str, int]:
    """Reviews per status among those whose key columns equal `equal` (names of `KEYS`), of
    `statuses` if given."""
    stmt = select(ReviewTally.status, func.sum(ReviewTally.reviews)).group_by(ReviewTally.status)
    if statuses is not None:
        stmt = stmt.where(ReviewTally.status.in_(tuple(statuses)))
    for name, value in equal.items():
        stmt = stmt.where(getattr(ReviewTally, name) == value)
    return {status: int(count) for status, count in session.execute(stmt) if count}


def values_in_use(session: Session, name: str) -> list[str]:
    """The values of one key column that at least one review has, sorted, '' left out: the
    filter menus' choices without a DISTINCT over every review."""
    column = getattr(ReviewTally, name)
    return [value for value in session.scalars(
        select(column).group_by(column).having(func.sum(ReviewTally.reviews) > 0)
        .order_by(column)) if value != ""]
