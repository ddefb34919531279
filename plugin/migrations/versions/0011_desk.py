"""full-text search over reviews, public replies and drafts

SQLite gets FTS5 tables kept in step by triggers; PostgreSQL gets GIN indexes over the same
columns. The statements live in plugin.store.search, next to the queries that use them.

Revision ID: 0011_desk
Revises: 0009
Create Date: 2026-11-27
"""
from alembic import op

from plugin.store import search

revision = '0011_desk'
down_revision = '0010_source_policy'
branch_labels = None
depends_on = None


def upgrade() -> None:
    search.create(op.get_bind())


def downgrade() -> None:
    search.drop(op.get_bind())
