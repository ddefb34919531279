"""what searches are planned with: SQLite's term tables, PostgreSQL's stored words

SQLite: fts5vocab tables over the review and draft indexes: read-only, they show the index's
own words and how many reviews or drafts hold each, so a search can tell a broad word from a
narrow one and match each typed word as the exact words it starts. PostgreSQL: each row's
words in a stored generated column with its GIN index, in place of the expression indexes: a
prefix search rechecks every row the index finds, and recomputing the words of each cost
seconds for a word in every review. Plans come from the statistics ANALYZE keeps of them.

Revision ID: 0016_search
Revises: 0013_teamwork
Create Date: 2026-11-28
"""
from alembic import op

from plugin.store import search

revision = '0016_search'
down_revision = '0015_desk2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    search.create_planning(op.get_bind())


def downgrade() -> None:
    search.drop_planning(op.get_bind())
