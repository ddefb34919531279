"""Counts of reviews kept up to date by the database, so the queue's tabs never count the table.

`review_tallies` holds how many reviews there are per combination of the values the queue
filters on (status, platform, source, brand, rating, language, escalation, offer, violations,
assignee) and whether we have posted a reply (for the dashboard's present-state figures).
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

from sqlalchemy import Boolean, Integer, String, func, select, text
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
    language: Mapped[str] = mapped_column(String(35))
    escalated: Mapped[bool] = mapped_column(Boolean)
    has_offer: Mapped[bool] = mapped_column(Boolean)
    has_violations: Mapped[bool] = mapped_column(Boolean)
    assignee: Mapped[str] = mapped_column(String(150))
    replied: Mapped[bool] = mapped_column(Boolean)
    reviews: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class Key:
    """One key column of a tally and how a review row gives its value."""

    name: str
    expression: str  # of `{row}.column`s, the same on both engines


KEYS = (
    Key("status", "{row}.status"),
    Key("platform", "{row}.platform"),
    Key("source", "coalesce({row}.source, '')"),
    Key("policy", "coalesce({row}.policy, '')"),
    Key("rating", "{row}.rating"),
    Key("language", "coalesce({row}.language, '')"),
    Key("escalated", "coalesce({row}.escalated, false)"),
    Key("has_offer", "coalesce({row}.has_offer, false)"),
    Key("has_violations", "coalesce({row}.violation_count, 0) > 0"),
    Key("assignee", "coalesce({row}.assignee, '')"),
    Key("replied", "{row}.posted_at IS NOT NULL"),
)
#: The review columns the keys read: only an update of one of these can move a review.
WATCHED = ("status", "platform", "source", "policy", "rating", "language", "escalated",
           "has_offer", "violation_count", "assignee", "posted_at")
TABLE = ReviewTally.__tablename__
_NAMES = ", ".join(key.name for key in KEYS)


def _values(row: str, sign: int) -> str:
    return ", ".join(key.expression.format(row=row) for key in KEYS) + f", {sign}"


def _append(row: str, sign: int) -> str:
    return f"INSERT INTO {TABLE} ({_NAMES}, reviews) VALUES ({_values(row, sign)});"


def _changed(old: str, new: str) -> str:
    return " OR ".join(f"{old}.{column} IS DISTINCT FROM {new}.{column}" for column in WATCHED)


SQLITE_CREATE = (
    f"CREATE TRIGGER review_tallies_insert AFTER INSERT ON reviews BEGIN "
    f"{_append('new', 1)} END",
    f"CREATE TRIGGER review_tallies_delete AFTER DELETE ON reviews BEGIN "
    f"{_append('old', -1)} END",
    f"CREATE TRIGGER review_tallies_update AFTER UPDATE OF {', '.join(WATCHED)} ON reviews "
    f"WHEN {_changed('old', 'new').replace('IS DISTINCT FROM', 'IS NOT')} BEGIN "
    f"{_append('old', -1)} {_append('new', 1)} END",
)
SQLITE_DROP = tuple(f"DROP TRIGGER IF EXISTS review_tallies_{event}"
                    for event in ("insert", "delete", "update"))
#: The triggers by name with their exact SQL, for the backup check (as `search.SQLITE_TRIGGERS`).
SQLITE_TRIGGERS = {statement.split()[2]: statement for statement in SQLITE_CREATE}

POSTGRES_CREATE = (
    f"CREATE FUNCTION review_tallies_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'INSERT' THEN {_append('OLD', -1)} END IF; "
    f"IF TG_OP <> 'DELETE' THEN {_append('NEW', 1)} END IF; "
    f"RETURN NULL; END $$",
    "CREATE TRIGGER review_tallies_insert_delete AFTER INSERT OR DELETE ON reviews "
    "FOR EACH ROW EXECUTE FUNCTION review_tallies_change()",
    f"CREATE TRIGGER review_tallies_update AFTER UPDATE OF {', '.join(WATCHED)} ON reviews "
    f"FOR EACH ROW WHEN ({_changed('OLD', 'NEW')}) EXECUTE FUNCTION review_tallies_change()",
)
POSTGRES_DROP = ("DROP TRIGGER IF EXISTS review_tallies_insert_delete ON reviews",
                 "DROP TRIGGER IF EXISTS review_tallies_update ON reviews",
                 "DROP FUNCTION IF EXISTS review_tallies_change()")

#: Counts every review once: what the table starts from when the triggers are created.
FILL = (f"INSERT INTO {TABLE} ({_NAMES}, reviews) "
        f"SELECT {', '.join(key.expression.format(row='reviews') for key in KEYS)}, count(*) "
        f"FROM reviews GROUP BY {', '.join(str(i + 1) for i in range(len(KEYS)))}")


def create(connection: Connection) -> None:
    """The triggers, then one row per key for the reviews already there."""
    sqlite = connection.dialect.name == "sqlite"
    for statement in SQLITE_CREATE if sqlite else POSTGRES_CREATE:
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(FILL)


def drop(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    for statement in SQLITE_DROP if sqlite else POSTGRES_DROP:
        connection.exec_driver_sql(statement)


def is_own_trigger(name: str, sql: str | None) -> bool:
    """A trigger exactly as this module creates it."""
    return SQLITE_TRIGGERS.get(name) == sql


def fold(connection: Connection | Session) -> int:
    """Add the appended rows up into one row per key (dropping keys at zero); how many rows
    there were. Exact under concurrent writers: on PostgreSQL the rows summed are exactly the
    rows deleted (one statement, one snapshot), and SQLite has one writer at a time."""
    top, rows = connection.execute(text(f"SELECT max(id), count(*) FROM {TABLE}")).one()
    if not rows:
        return 0
    summed = (f"INSERT INTO {TABLE} ({_NAMES}, reviews) SELECT {_NAMES}, sum(reviews) "
              "FROM {source} GROUP BY " + _NAMES + " HAVING sum(reviews) <> 0")
    if _dialect(connection) == "postgresql":
        connection.execute(text(
            f"WITH gone AS (DELETE FROM {TABLE} WHERE id <= :top RETURNING {_NAMES}, reviews) "
            + summed.format(source="gone")), {"top": top})
    else:
        connection.execute(text(summed.format(source=f"{TABLE} WHERE id <= :top")),
                           {"top": top})
        connection.execute(text(f"DELETE FROM {TABLE} WHERE id <= :top"), {"top": top})
    return int(rows)


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
