"""Full-text search over what customers wrote and what we replied.

SQLite: two FTS5 tables over the review columns (title, text, the public reply) and the draft
text, kept in step by triggers, so every way a review or draft is written (ORM, bulk insert,
another process) is indexed without the store having to remember. PostgreSQL: a stored generated
column of `to_tsvector('simple', ...)` of the same columns on each table, with a GIN index
(expression indexes until 0016_search). Both use language-neutral tokenising
("unicode61" with diacritics removed; PostgreSQL's 'simple', which keeps accents: folding them
needs the unaccent extension): reviews arrive in many languages and a stemmer for one would
mangle the others. Each word typed matches as a prefix, and every
word must match.

A SQLite migration that rebuilds `reviews` or `drafts` in batch mode drops their triggers; it
must call `create_sqlite` again afterwards.

A search is planned before it runs (`plan`): the index says how many reviews its words may be
in (SQLite's term table, PostgreSQL's planner statistics). A narrow search collects its matches
and filters, counts and sorts them. Collecting costs a few microseconds a match, so a search
that may match `COUNTED` reviews or more counts only the first `COUNT_CAP` matches of each side,
shown as "at least"; and one that may match a third of the queue or more ("sorry", "customer":
words of every draft) does not collect its matches for the page either: the page walks the queue
in sort order and checks review by review until it is full. On SQLite each word typed is looked
up in the term table and matched as the exact words it starts, which lets the index seek one
review's entry; a prefix query would merge every entry of every word it starts, per review.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

MAX_WORDS = 8
#: A search the index says may match this many reviews or more is counted "at least".
COUNTED = 2000
#: How many matches per side such a search counts.
COUNT_CAP = 500
#: A search that may match this share of the queue or more walks the queue for its page.
WALK_SHARE = 1 / 3
#: A typed word that starts more index words than this is matched as a prefix, not expanded.
MAX_TERMS = 64
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
#: PostgreSQL keeps each row's words in a stored column (since 0016_search): a prefix search
#: rechecks every row the index finds, and recomputing `to_tsvector` for each cost seconds
#: for a word in every review.
VECTOR_COLUMN = "search_vector"
POSTGRES_VECTOR_INDEXES = (
    f"CREATE INDEX ix_reviews_search_vector ON reviews USING gin ({VECTOR_COLUMN})",
    f"CREATE INDEX ix_drafts_search_vector ON drafts USING gin ({VECTOR_COLUMN})",
)
POSTGRES_VECTOR_INDEXES_DROP = ("DROP INDEX IF EXISTS ix_reviews_search_vector",
                                "DROP INDEX IF EXISTS ix_drafts_search_vector")
POSTGRES_VECTORS_CREATE = (
    f"ALTER TABLE reviews ADD COLUMN {VECTOR_COLUMN} tsvector GENERATED ALWAYS AS "
    f"({REVIEW_VECTOR}) STORED",
    f"ALTER TABLE drafts ADD COLUMN {VECTOR_COLUMN} tsvector GENERATED ALWAYS AS "
    f"({DRAFT_VECTOR}) STORED",
    *POSTGRES_VECTOR_INDEXES,
    *POSTGRES_DROP,
)
POSTGRES_VECTORS_DROP = (
    *POSTGRES_CREATE,
    *POSTGRES_VECTOR_INDEXES_DROP,
    f"ALTER TABLE reviews DROP COLUMN IF EXISTS {VECTOR_COLUMN}",
    f"ALTER TABLE drafts DROP COLUMN IF EXISTS {VECTOR_COLUMN}",
)
#: Tables of the search index that the models do not describe (schema comparison skips them).
SQLITE_TABLES = ("review_search", "draft_search")
#: The words each SQLite index holds, with how many reviews or drafts hold each: read-only
#: views of the index itself, nothing to keep in step.
SQLITE_TERMS_CREATE = (
    "CREATE VIRTUAL TABLE review_search_terms USING fts5vocab(review_search, 'row')",
    "CREATE VIRTUAL TABLE draft_search_terms USING fts5vocab(draft_search, 'row')",
)
SQLITE_TERMS_DROP = ("DROP TABLE IF EXISTS review_search_terms",
                     "DROP TABLE IF EXISTS draft_search_terms")


def create(connection) -> None:
    statements = SQLITE_CREATE if connection.dialect.name == "sqlite" else POSTGRES_CREATE
    for statement in statements:
        connection.exec_driver_sql(statement)


def drop(connection) -> None:
    statements = SQLITE_DROP if connection.dialect.name == "sqlite" else POSTGRES_DROP
    for statement in statements:
        connection.exec_driver_sql(statement)


@contextmanager
def bulk_load(connection: Connection) -> Iterator[None]:
    """Rows loaded in bulk inside the block are indexed once at its end, not row by row; the
    index is left as the migrations leave it (SQLite's full-text tables and their triggers,
    PostgreSQL's word columns' indexes)."""
    sqlite = connection.dialect.name == "sqlite"
    for statement in SQLITE_DROP if sqlite else POSTGRES_VECTOR_INDEXES_DROP:
        connection.exec_driver_sql(statement)
    yield
    for statement in SQLITE_CREATE if sqlite else POSTGRES_VECTOR_INDEXES:
        connection.exec_driver_sql(statement)


def create_planning(connection: Connection) -> None:
    """What 0016_search adds: SQLite's term tables, PostgreSQL's stored word columns."""
    statements = SQLITE_TERMS_CREATE if connection.dialect.name == "sqlite" \
        else POSTGRES_VECTORS_CREATE
    for statement in statements:
        connection.exec_driver_sql(statement)


def drop_planning(connection: Connection) -> None:
    statements = SQLITE_TERMS_DROP if connection.dialect.name == "sqlite" \
        else POSTGRES_VECTORS_DROP
    for statement in statements:
        connection.exec_driver_sql(statement)


def is_own_trigger(name: str, sql: str | None) -> bool:
    """A trigger exactly as the search creates it."""
    return SQLITE_TRIGGERS.get(name) == sql


def is_search_table(name: str | None) -> bool:
    """A table, index or column of the search (which the models leave to this module)."""
    if not name:
        return False
    return name in ("ix_reviews_search", "ix_drafts_search", "ix_reviews_search_vector",
                    "ix_drafts_search_vector", VECTOR_COLUMN) or any(
        name == t or name.startswith(t + "_") for t in SQLITE_TABLES)


def words(query: str) -> list[str]:
    """The words of a search, lower-cased; punctuation and operators are not syntax here."""
    return re.findall(r"\w+", query.lower())[:MAX_WORDS]


_PLAIN_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Plan:
    """What the index says of a search: its words, the SQLite MATCH expression of each side
    (reviews, drafts; None when that side cannot match), how many reviews it may match (0:
    unknown) and how many reviews there are."""

    words: tuple[str, ...]
    review_match: str | None = None
    draft_match: str | None = None
    estimate: int = 0
    reviews: int = 0

    @property
    def at_least(self) -> bool:
        """Counted over its first matches only: the counts are lower bounds."""
        return self.estimate >= COUNTED

    @property
    def walk(self) -> bool:
        """Its page is found review by review in sort order, not from all its matches."""
        return self.at_least and self.estimate >= self.reviews * WALK_SHARE


def _prefix_match(words_: tuple[str, ...]) -> str:
    return " ".join('"' + w + '"*' for w in words_)


def plan(session: Session, query: str) -> Plan:
    """The plan of a search: a few index lookups on SQLite, one EXPLAIN on PostgreSQL."""
    found = tuple(words(query))
    if session.get_bind().dialect.name == "sqlite":
        reviews = session.scalar(text("SELECT max(id) FROM reviews")) or 0
        return _sqlite_plan(session, found, reviews)
    return _postgres_plan(session, found)


def _sqlite_plan(session: Session, found: tuple[str, ...], reviews: int) -> Plan:
    """Each plain word (letters a-z and digits, which the tokenizer only lower-cases) becomes
    the exact index words it starts; the estimate is, per side, the fewest reviews any word
    is in. A word with other letters keeps its prefix form (the tokenizer folds accents its
    own way) and leaves that side without an estimate, so the search is taken as narrow."""
    matches: dict[str, str | None] = {}
    estimates: list[int] = []
    for side in ("review", "draft"):
        parts: list[str] = []
        least: int | None = None
        known = True
        for word in found:
            if not _PLAIN_WORD.fullmatch(word):
                parts.append('"' + word + '"*')
                known = False
                continue
            upper = word[:-1] + chr(ord(word[-1]) + 1)
            rows = session.execute(text(
                f"SELECT term, doc FROM {side}_search_terms WHERE term >= :low AND term < :high "
                f"LIMIT {MAX_TERMS + 1}"), {"low": word, "high": upper}).all()
            if not rows:
                parts = []
                least = 0
                break
            if len(rows) > MAX_TERMS:
                parts.append('"' + word + '"*')
                known = False
                continue
            parts.append("(" + " OR ".join('"' + term + '"' for term, _ in rows) + ")")
            docs = sum(doc for _, doc in rows)
            least = docs if least is None else min(least, docs)
        matches[side] = " AND ".join(parts) if parts else None
        estimates.append(least if known and least is not None else 0)
    return Plan(found, matches["review"], matches["draft"], max(estimates), reviews)


def _postgres_plan(session: Session, found: tuple[str, ...]) -> Plan:
    """The planner's row estimates, from the statistics ANALYZE keeps of the stored word
    columns (most common words and their frequencies), all in one EXPLAIN: a round trip costs
    more than the estimate on a busy server. The words are estimated as typed and as prefixes
    and the larger taken: the planner guesses prefixes from the common words they start, which
    on a small table can say one row for a word in every one."""
    sides = " UNION ALL ".join(
        f"SELECT 1 FROM {table} WHERE {VECTOR_COLUMN} @@ to_tsquery('simple', :{name})"
        for name in ("prefixes", "typed") for table in ("reviews", "drafts"))
    explained = session.execute(text(
        f"EXPLAIN (FORMAT JSON) {sides} UNION ALL SELECT 1 FROM reviews"),
        {"prefixes": " & ".join(w + ":*" for w in found), "typed": " & ".join(found)}).scalar()
    if isinstance(explained, str):
        explained = json.loads(explained)
    parts = [int(part.get("Plan Rows", 0))
             for part in (explained[0]["Plan"].get("Plans") or [])] if explained else []
    if len(parts) != 5:
        return Plan(found)  # a plan shaped otherwise: no estimate, the narrow way
    return Plan(found, estimate=max(parts[:4]), reviews=parts[4])


def matching_ids(session: Session, planned: Plan) -> list[int]:
    """Every review the search matches, collected once for a page's counts and rows alike."""
    from .models import ReviewRow

    return list(session.scalars(select(ReviewRow.id).where(Matches("", planned))))


class Matches(ColumnElement):
    """True for reviews whose text, title, public reply or any draft contains every word.

    `how` is "all" (collect every match), "each" (check review by review, for the page of a
    search that walks) or "first" (the first `COUNT_CAP` matches of each side, for the counts
    of a search counted "at least"); with `ids`, the matches collected before."""

    # No Boolean type: SQLite would get `... IN (...) = 1`, which hides the IN from the planner
    # and turns each search into a scan of every review.
    inherit_cache = False

    def __init__(self, query: str, planned: Plan | None = None, how: str = "all",
                 ids: list[int] | None = None):
        self.ids = ids
        self.words = tuple(words(query)) if planned is None else planned.words
        prefix = _prefix_match(self.words)
        self.review_match = planned.review_match if planned else prefix
        self.draft_match = planned.draft_match if planned else prefix
        if planned is not None and planned.review_match is None \
                and planned.draft_match is None:
            self.review_match = self.draft_match = None
        self.how = how


def _bound(compiler, value: str, **kw) -> str:
    return compiler.process(bindparam("search_words", value, unique=True), **kw)


@compiles(Matches, "sqlite")
def _sqlite(element: Matches, compiler, **kw) -> str:
    if element.ids is not None:
        listed = compiler.process(bindparam("search_ids", json.dumps(element.ids), unique=True),
                                  **kw)
        return f"reviews.id IN (SELECT value FROM json_each({listed}))"
    review, draft = element.review_match, element.draft_match
    if review is None and draft is None:
        return "0"
    if element.how == "each":
        checks = []
        if review is not None:
            checks.append("EXISTS (SELECT 1 FROM review_search WHERE review_search MATCH "
                          f"{_bound(compiler, review, **kw)} AND rowid = reviews.id)")
        if draft is not None:
            checks.append("EXISTS (SELECT 1 FROM drafts JOIN draft_search ON draft_search.rowid "
                          "= drafts.id WHERE drafts.review_id = reviews.id AND draft_search "
                          f"MATCH {_bound(compiler, draft, **kw)})")
        return "(" + " OR ".join(checks) + ")"
    limit = f" LIMIT {COUNT_CAP}" if element.how == "first" else ""
    sides = []
    if review is not None:
        sides.append(f"SELECT rowid FROM (SELECT rowid FROM review_search WHERE review_search "
                     f"MATCH {_bound(compiler, review, **kw)}{limit})")
    if draft is not None:
        sides.append("SELECT drafts.review_id FROM drafts WHERE drafts.id IN (SELECT rowid FROM "
                     f"(SELECT rowid FROM draft_search WHERE draft_search MATCH "
                     f"{_bound(compiler, draft, **kw)}{limit}))")
    return "reviews.id IN (" + " UNION ".join(sides) + ")"


@compiles(Matches, "postgresql")
def _postgresql(element: Matches, compiler, **kw) -> str:
    if element.ids is not None:
        listed = compiler.process(bindparam("search_ids", element.ids, type_=ARRAY(Integer),
                                            unique=True), **kw)
        return f"reviews.id = ANY({listed})"
    expression = " & ".join(w + ":*" for w in element.words)
    first, second = (_bound(compiler, expression, **kw) for _ in range(2))
    if element.how == "each":
        # A scalar subquery, not EXISTS: PostgreSQL would hash an OR-ed EXISTS, collecting
        # every matching draft first, which is what walking must not do.
        return (f"(reviews.{VECTOR_COLUMN} @@ to_tsquery('simple', {first}) OR (SELECT true "
                f"FROM drafts WHERE drafts.review_id = reviews.id AND drafts.{VECTOR_COLUMN} @@ "
                f"to_tsquery('simple', {second}) LIMIT 1) IS NOT NULL)")
    limit = f" LIMIT {COUNT_CAP}" if element.how == "first" else ""
    # An array, not IN: the planner then looks the matches up by id, where for an IN of a
    # thousand estimated rows it would read every review and hash-join them.
    return (f"reviews.id = ANY(ARRAY((SELECT id FROM reviews WHERE {VECTOR_COLUMN} @@ "
            f"to_tsquery('simple', {first}){limit}) UNION (SELECT review_id FROM drafts WHERE "
            f"{VECTOR_COLUMN} @@ to_tsquery('simple', {second}){limit})))")
