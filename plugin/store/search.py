"""Full-text search over what customers wrote and what we replied.

SQLite: two FTS5 tables over the review columns (title, text, the public reply) and the draft
text, kept in step by triggers, so every way a review or draft is written (ORM, bulk insert,
another process) is indexed without the store having to remember. PostgreSQL: GIN indexes over
`to_tsvector('simple', ...)` of the same columns. Both use language-neutral tokenising
("unicode61" with diacritics removed; PostgreSQL's 'simple', which keeps accents: folding them
needs the unaccent extension): reviews arrive in many languages and a stemmer for one would
mangle the others. Each word typed matches as a prefix, and every
word must match.

A SQLite migration that rebuilds `reviews` or `drafts` in batch mode drops their triggers; it
must call `create_sqlite` again afterwards.
"""
from __future__ import annotations

import re

from sqlalchemy import bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

MAX_WORDS = 8
REVIEW_VECTOR = ("to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(text, '') || ' ' "
                 "|| coalesce(platform_reply, ''))")
DRAFT_VECTOR = "to_tsvector('simple', text)"

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE review_search USING fts5(title, text, platform_reply, "
    "content='reviews', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE draft_search USING fts5(text, content='drafts', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER review_search_insert AFTER INSERT ON reviews BEGIN "
    "INSERT INTO review_search(rowid, title, text, platform_reply) "
    "VALUES (new.id, new.title, new.text, new.platform_reply); END",
    "CREATE TRIGGER review_search_delete AFTER DELETE ON reviews BEGIN "
    "INSERT INTO review_search(review_search, rowid, title, text, platform_reply) "
    "VALUES ('delete', old.id, old.title, old.text, old.platform_reply); END",
    "CREATE TRIGGER review_search_update AFTER UPDATE OF title, text, platform_reply ON reviews "
    "BEGIN INSERT INTO review_search(review_search, rowid, title, text, platform_reply) "
    "VALUES ('delete', old.id, old.title, old.text, old.platform_reply); "
    "INSERT INTO review_search(rowid, title, text, platform_reply) "
    "VALUES (new.id, new.title, new.text, new.platform_reply); END",
    "CREATE TRIGGER draft_search_insert AFTER INSERT ON drafts BEGIN "
    "INSERT INTO draft_search(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER draft_search_delete AFTER DELETE ON drafts BEGIN "
    "INSERT INTO draft_search(draft_search, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER draft_search_update AFTER UPDATE OF text ON drafts BEGIN "
    "INSERT INTO draft_search(draft_search, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO draft_search(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO review_search(review_search) VALUES ('rebuild')",
    "INSERT INTO draft_search(draft_search) VALUES ('rebuild')",
)
SQLITE_DROP = tuple(f"DROP TRIGGER IF EXISTS {name}_{event}"
                    for name in ("review_search", "draft_search")
                    for event in ("insert", "delete", "update")) + (
    "DROP TABLE IF EXISTS review_search", "DROP TABLE IF EXISTS draft_search")
#: The triggers above by name, with their exact SQL: a backup may hold these and no others, so a
#: trigger added or altered by hand is still refused on restore.
SQLITE_TRIGGERS = {statement.split()[2]: statement for statement in SQLITE_CREATE
                   if statement.startswith("CREATE TRIGGER ")}
POSTGRES_CREATE = (
    f"CREATE INDEX ix_reviews_search ON reviews USING gin ({REVIEW_VECTOR})",
    f"CREATE INDEX ix_drafts_search ON drafts USING gin ({DRAFT_VECTOR})",
)
POSTGRES_DROP = ("DROP INDEX IF EXISTS ix_reviews_search", "DROP INDEX IF EXISTS ix_drafts_search")
#: Tables of the search index that the models do not describe (schema comparison skips them).
SQLITE_TABLES = ("review_search", "draft_search")


def create(connection) -> None:
    statements = SQLITE_CREATE if connection.dialect.name == "sqlite" else POSTGRES_CREATE
    for statement in statements:
        connection.exec_driver_sql(statement)


def drop(connection) -> None:
    statements = SQLITE_DROP if connection.dialect.name == "sqlite" else POSTGRES_DROP
    for statement in statements:
        connection.exec_driver_sql(statement)


def is_own_trigger(name: str, sql: str | None) -> bool:
    """A trigger exactly as the search creates it."""
    return SQLITE_TRIGGERS.get(name) == sql


def is_search_table(name: str | None) -> bool:
    """A table or index of the search (which the models leave to this module)."""
    if not name:
        return False
    return name in ("ix_reviews_search", "ix_drafts_search") or any(
        name == t or name.startswith(t + "_") for t in SQLITE_TABLES)


def words(query: str) -> list[str]:
    """The words of a search, lower-cased; punctuation and operators are not syntax here."""
    return re.findall(r"\w+", query.lower())[:MAX_WORDS]


class Matches(ColumnElement):
    """True for reviews whose text, title, public reply or any draft contains every word."""

    # No Boolean type: SQLite would get `... IN (...) = 1`, which hides the IN from the planner
    # and turns each search into a scan of every review.
    inherit_cache = False

    def __init__(self, query: str):
        self.words = words(query)


@compiles(Matches, "sqlite")
def _sqlite(element: Matches, compiler, **kw) -> str:
    phrase = " ".join('"' + w + '"*' for w in element.words)
    first, second = (compiler.process(bindparam("search_words", phrase, unique=True), **kw)
                     for _ in range(2))
    return ("reviews.id IN (SELECT rowid FROM review_search WHERE review_search MATCH "
            f"{first} UNION SELECT drafts.review_id FROM drafts WHERE drafts.id IN "
            f"(SELECT rowid FROM draft_search WHERE draft_search MATCH {second}))")


@compiles(Matches, "postgresql")
def _postgresql(element: Matches, compiler, **kw) -> str:
    expression = " & ".join(w + ":*" for w in element.words)
    first, second = (compiler.process(bindparam("search_words", expression, unique=True), **kw)
                     for _ in range(2))
    return (f"reviews.id IN (SELECT id FROM reviews WHERE {REVIEW_VECTOR} @@ "
            f"to_tsquery('simple', {first}) UNION SELECT review_id FROM drafts WHERE "
            f"{DRAFT_VECTOR} @@ to_tsquery('simple', {second}))")
